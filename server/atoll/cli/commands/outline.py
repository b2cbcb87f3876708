"""``atoll outline [PATH]``: the ranked repository map that prompts carry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from atoll.cli.common import (
    JSON_OPTION,
    SET_OPTION,
    err_console,
    find_workspace,
    index_notes,
    load,
    print_json,
)
from atoll.config import AtollConfig


def _from_scratch(root: Path, config: AtollConfig, budget: int, focus: list[Path]) -> str:
    """No index yet: outline from a symbol index in a temporary folder (the workspace is
    left as it was; `atoll index` keeps one)."""
    import tempfile

    from atoll.indexing import WorkspaceIndex

    err_console.print("[dim]not indexed yet: outlining from a temporary index[/]")
    with tempfile.TemporaryDirectory(prefix="atoll-outline-") as scratch:
        indexing = replace(config.indexing, index_dir=scratch, embeddings=False)
        temporary = WorkspaceIndex.open(root, replace(config, indexing=indexing), command="outline")
        try:
            temporary.index_all()
            return temporary.outline(budget, focus)
        finally:
            temporary.close()


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
        config = load(root, sets).config
        idx = WorkspaceIndex.open(root, config, write=False)
        try:
            if idx.stats()["files"] == 0:
                text = _from_scratch(root, config, budget, focus)
            else:
                text = idx.outline(budget, focus)
                index_notes(idx)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "budget": budget, "outline": text})
        else:
            typer.echo(text)
