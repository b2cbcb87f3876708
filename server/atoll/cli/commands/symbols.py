"""``atoll symbols QUERY``: fuzzy symbol search over the index."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.markup import escape

from atoll.cli.common import console, print_json, workspace_config
from atoll.cli.indexed import nothing_found, query_index, shown_path
from atoll.cli.options import AsJson, Sets, Workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def symbols(
        query: str = typer.Argument(..., help="Part of a name: exact, prefix, camelCase or fuzzy."),
        limit: int = typer.Option(20, "--limit", "-n", help="Most results."),
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Find symbols by name (index the workspace first with `atoll index`)."""
        root, loaded = workspace_config(workspace, sets)
        found, indexed = query_index(
            root, loaded.config, lambda idx: idx.find_symbols(query, limit)
        )
        if as_json:
            print_json([{**asdict(s), "kind_name": s.kind_name} for s in found])
            return
        for s in found:
            console.print(
                f"[bold]{escape(s.qualified_name)}[/] [dim]{s.kind_name}[/] "
                f"{escape(shown_path(s.path, root))}:{s.sel_start_line + 1}  "
                f"[dim]{escape(s.signature)}[/]",
                highlight=False,
            )
        if not found:
            nothing_found(f"no symbol matches {query!r}", root, indexed=indexed)
