"""``atoll outline [PATH]``: the ranked repository map that prompts carry.

It only reads the index. A workspace not indexed yet is outlined from a symbol index in
a temporary folder: the workspace is left as it was (`atoll index` keeps an index).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from atoll.cli.commands.index import index_with_progress
from atoll.cli.common import err_console, fail, print_json, workspace_config
from atoll.cli.indexed import index_notes
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.config import AtollConfig


def _from_scratch(
    root: Path, config: AtollConfig, budget: int, focus: list[Path], show: bool
) -> str:
    import tempfile

    from atoll.indexing import WorkspaceIndex

    err_console.print("[dim]not indexed yet: outlining from a temporary index[/]")
    with tempfile.TemporaryDirectory(prefix="atoll-outline-") as scratch:
        indexing = replace(config.indexing, index_dir=scratch, embeddings=False)
        scratch_config = replace(config, indexing=indexing)
        temporary = WorkspaceIndex.open(root, scratch_config, command="outline")
        try:
            index_with_progress(temporary, scratch_config, show=show)
            return temporary.outline(budget, focus)
        finally:
            temporary.close()


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
        idx = WorkspaceIndex.open(root, loaded.config, write=False)
        try:
            if idx.stats()["files"] == 0:
                text = _from_scratch(root, loaded.config, budget, focus, show=not as_json)
            else:
                text = idx.outline(budget, focus)
                index_notes(idx)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "budget": budget, "outline": text})
        else:
            typer.echo(text)
