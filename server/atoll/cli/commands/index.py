"""``atoll index [PATH]``: build or refresh the workspace index, with a progress bar."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from atoll.cli.common import console, err_console, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.cli.progress import PhaseProgress

if TYPE_CHECKING:
    from atoll.config import AtollConfig
    from atoll.indexing import IndexStats, WorkspaceIndex


def after_phases(config: AtollConfig) -> dict[str, str]:
    """What follows each indexing phase, for the spinner once its bar is full."""
    last = "embedding new chunks" if config.indexing.embeddings else "counting references"
    return {"parsing": last, "embedding": "writing vectors"}


def index_with_progress(idx: WorkspaceIndex, config: AtollConfig, *, show: bool) -> IndexStats:
    """``idx.index_all()`` with a bar per phase on stderr when ``show`` (and a terminal)."""
    with PhaseProgress(err_console, enabled=show, after=after_phases(config)) as bar:
        return idx.index_all(bar)


def register(app: typer.Typer) -> None:
    @app.command()
    def index(
        path: Path = typer.Argument(None, help="Workspace folder (the same as -w)."),
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Index a workspace: symbols, chunks and (unless turned off) embeddings."""
        from atoll.indexing import WorkspaceIndex

        root, loaded = workspace_config(workspace, sets, path)
        idx = WorkspaceIndex.open(root, loaded.config)
        try:
            stats = index_with_progress(idx, loaded.config, show=not as_json)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "index": idx.folder, **asdict(stats)})
            return
        console.print(
            f"[green]indexed[/] {escape(str(root))}: {stats.files} files ({stats.indexed} parsed, "
            f"{stats.unchanged} unchanged, {stats.removed} removed, {stats.skipped} skipped), "
            f"{stats.symbols} symbols, {stats.chunks} chunks, {stats.embedded} embedded "
            f"in {stats.seconds:.2f} s",
            highlight=False,
        )
        for error in stats.errors[:5]:
            console.print(f"[yellow]parse error:[/] {error}", highlight=False)
