"""``atoll symbols QUERY``: fuzzy symbol search over the index."""

from __future__ import annotations

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
    def symbols(
        query: str = typer.Argument(..., help="Part of a name: exact, prefix, camelCase or fuzzy."),
        limit: int = typer.Option(20, "--limit", "-n", help="Most results."),
        workspace: Path = WORKSPACE_OPTION,
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Find symbols by name (index the workspace first with `atoll index`)."""
        from atoll.indexing import WorkspaceIndex

        root = choose_workspace(workspace)
        idx = WorkspaceIndex.open(root, load(root, sets).config)
        try:
            found = idx.find_symbols(query, limit)
            indexed = idx.stats()["files"] > 0
        finally:
            idx.close()
        if as_json:
            print_json([{**asdict(s), "kind_name": s.kind_name} for s in found])
            return
        for s in found:
            where = f"{s.path.relative_to(root) if s.path.is_relative_to(root) else s.path}"
            console.print(
                f"[bold]{escape(s.qualified_name)}[/] [dim]{s.kind_name}[/] "
                f"{escape(where)}:{s.sel_start_line + 1}  [dim]{escape(s.signature)}[/]",
                highlight=False,
            )
        if not found:
            err_console.print(
                f"no symbol matches {query!r}" if indexed else NOT_INDEXED.format(root=root),
                highlight=False,
                markup=False,
            )
            raise typer.Exit(1)
