"""``atoll outline [PATH]``: the ranked repository map that prompts carry."""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.common import JSON_OPTION, SET_OPTION, find_workspace, load, print_json


def register(app: typer.Typer) -> None:
    @app.command()
    def outline(
        path: Path = typer.Argument(None, help="Workspace folder, or a file to focus on."),
        budget: int = typer.Option(1024, "--budget", help="Token budget."),
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Print files → classes/functions with signatures, most important first."""
        from atoll.indexing import WorkspaceIndex

        root = find_workspace(path)
        focus = [path.resolve()] if path is not None and path.is_file() else []
        idx = WorkspaceIndex.open(root, load(root, sets).config)
        try:
            if idx.stats()["files"] == 0:
                idx.index_all()
            text = idx.outline(budget, focus)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "budget": budget, "outline": text})
        else:
            typer.echo(text)
