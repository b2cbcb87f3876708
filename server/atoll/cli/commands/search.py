"""``atoll search QUERY``: hybrid (lexical + vector) code search."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import typer
from rich.markup import escape

from atoll.cli.common import (
    JSON_OPTION,
    NOT_INDEXED,
    SET_OPTION,
    WORKSPACE_OPTION,
    choose_workspace,
    console,
    err_console,
    load,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command()
    def search(
        query: str = typer.Argument(..., help="Words, a question or a code fragment."),
        k: int = typer.Option(10, "-k", help="Number of results."),
        lang: str = typer.Option("", "--lang", help="Only this language (python, rust, qml, ...)."),
        path: str = typer.Option("", "--path", help="Only under this workspace-relative folder."),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Search the indexed code."""
        from atoll.indexing import WorkspaceIndex

        root = choose_workspace(workspace)
        idx = WorkspaceIndex.open(root, load(root, sets).config)
        # The first vector query loads the embedding model (seconds): say so meanwhile.
        waiting = nullcontext() if as_json else err_console.status("searching", spinner="dots")
        try:
            with waiting:
                hits = idx.search(query, k, language=lang or None, path_prefix=path or None)
            indexed = idx.stats()["files"] > 0
        finally:
            idx.close()
        if as_json:
            print_json([asdict(h) for h in hits])
            return
        for h in hits:
            rel = h.path.relative_to(root) if h.path.is_relative_to(root) else h.path
            console.print(
                f"[bold]{escape(str(rel))}:{h.start_line + 1}-{h.end_line + 1}[/] "
                f"[cyan]{escape(h.symbol)}[/] [dim]{h.score:.4f}[/]",
                highlight=False,
            )
            for line in h.text.splitlines()[:4]:
                console.print(f"    {escape(line)}", highlight=False)
        if not hits:
            err_console.print(
                f"nothing matches {query!r}" if indexed else NOT_INDEXED.format(root=root),
                highlight=False,
                markup=False,
            )
            raise typer.Exit(1)
