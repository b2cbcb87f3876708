"""``atoll outline [PATH]``: the ranked repository map that prompts carry."""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.commands.index import index_with_progress
from atoll.cli.common import (
    JSON_OPTION,
    SET_OPTION,
    WORKSPACE_OPTION,
    choose_workspace,
    fail,
    find_workspace,
    load,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command()
    def outline(
        path: Path = typer.Argument(
            None, help="A file to focus on, or the workspace folder (the same as -w)."
        ),
        workspace: Path = WORKSPACE_OPTION,
        budget: int = typer.Option(1024, "--budget", help="Token budget."),
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Print files → classes/functions with signatures, most important first."""
        from atoll.indexing import WorkspaceIndex

        focus: list[Path] = []
        if path is not None and path.is_file():
            focus = [path.resolve()]
            root = choose_workspace(workspace) if workspace else find_workspace(path.parent)
            if not focus[0].is_relative_to(root):
                fail(f"{path} is not inside the workspace {root}", 2)
        else:
            root = choose_workspace(workspace, path)
        loaded = load(root, sets)
        idx = WorkspaceIndex.open(root, loaded.config)
        try:
            if idx.stats()["files"] == 0:
                index_with_progress(idx, loaded.config, show=not as_json)
            text = idx.outline(budget, focus)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "budget": budget, "outline": text})
        else:
            typer.echo(text)
