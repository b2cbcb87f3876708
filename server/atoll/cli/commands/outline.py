"""``atoll outline [PATH]``: the ranked repository map that prompts carry."""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.commands.index import index_with_progress
from atoll.cli.common import fail, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def outline(
        path: Path = typer.Argument(
            None, help="A file to focus on, or the workspace folder (the same as -w)."
        ),
        workspace: Workspace = None,
        budget: int = typer.Option(1024, "--budget", help="Token budget."),
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Print files → classes/functions with signatures, most important first."""
        from atoll.indexing import WorkspaceIndex

        focus = [path.resolve()] if path is not None and path.is_file() else []
        if focus:
            root, loaded = workspace_config(workspace, sets, near=focus[0])
            if not focus[0].is_relative_to(root):
                fail(f"{path} is not inside the workspace {root}", 2)
        else:
            root, loaded = workspace_config(workspace, sets, path)
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
