"""``atoll search QUERY``: hybrid (lexical + vector) code search."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.markup import escape

from atoll.cli.common import console, print_json, workspace_config
from atoll.cli.indexed import nothing_found, query_index, shown_path
from atoll.cli.options import AsJson, Sets, Workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def search(
        query: str = typer.Argument(..., help="Words, a question or a code fragment."),
        k: int = typer.Option(10, "-k", help="Number of results."),
        lang: str = typer.Option("", "--lang", help="Only this language (python, rust, qml, ...)."),
        path: str = typer.Option("", "--path", help="Only under this workspace-relative folder."),
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Search the indexed code."""
        root, loaded = workspace_config(workspace, sets)
        # The first vector query loads the embedding model (seconds): say so meanwhile.
        hits, indexed = query_index(
            root,
            loaded.config,
            lambda idx: idx.search(query, k, language=lang or None, path_prefix=path or None),
            busy="" if as_json else "searching",
        )
        if as_json:
            print_json([asdict(h) for h in hits])
            return
        for h in hits:
            console.print(
                f"[bold]{escape(shown_path(h.path, root))}:{h.start_line + 1}-{h.end_line + 1}[/] "
                f"[cyan]{escape(h.symbol)}[/] [dim]{h.score:.4f}[/]",
                highlight=False,
            )
            for line in h.text.splitlines()[:4]:
                console.print(f"    {escape(line)}", highlight=False)
        if not hits:
            nothing_found(f"nothing matches {query!r}", root, indexed=indexed)
