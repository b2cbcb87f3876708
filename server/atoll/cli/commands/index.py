"""``atoll index [PATH]``: build or refresh the workspace index, with a progress bar.

One process writes an index at a time. When another one does (the editor's ``atoll
serve`` keeps the index fresh itself; another ``atoll index`` is running), this command
waits for it up to ``--wait`` seconds, then reports who writes it and what the index
holds, and exits 0: the index is being kept, just not by this process.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from atoll.cli.common import console, err_console, fail, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.cli.progress import PhaseProgress

if TYPE_CHECKING:
    from atoll.config import AtollConfig
    from atoll.indexing import IndexStats, WorkspaceIndex

WAIT_OPTION = typer.Option(
    0.0, "--wait", metavar="SECONDS", help="Wait this long for another process writing the index."
)


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
        wait: float = WAIT_OPTION,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Index a workspace: symbols, chunks and (unless turned off) embeddings."""
        from atoll.indexing import IndexBusyError, WorkspaceIndex

        root, loaded = workspace_config(workspace, sets, path)
        try:
            idx = WorkspaceIndex.open(root, loaded.config, command="index", wait_s=wait)
        except IndexBusyError as exc:
            fail(f"{exc}; try again, or --wait")
        try:
            if not idx.writable:
                _someone_else(idx, root, as_json)
                return
            stats = index_with_progress(idx, loaded.config, show=not as_json)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "index": idx.folder, **asdict(stats)})
            return
        _report(root, stats)


def _someone_else(idx: WorkspaceIndex, root: Path, as_json: bool) -> None:
    counts = idx.stats()
    reason = idx.read_only_reason()
    if as_json:
        writer = asdict(idx.writer) if idx.writer else None
        print_json({"workspace": root, "index": idx.folder, "indexed_here": False,
                    "writer": writer, "reason": reason, **counts})  # fmt: skip
        return
    console.print(
        f"[yellow]not indexed here:[/] {escape(reason)}, and keeps it up to date "
        f"(--wait SECONDS waits for it). The index holds {counts['files']} files, "
        f"{counts['symbols']} symbols, {counts['chunks']} chunks.",
        highlight=False,
    )


def _report(root: Path, stats: IndexStats) -> None:
    console.print(
        f"[green]indexed[/] {escape(str(root))}: {stats.files} files ({stats.indexed} parsed, "
        f"{stats.unchanged} unchanged, {stats.removed} removed, {stats.skipped} skipped), "
        f"{stats.symbols} symbols, {stats.chunks} chunks, {stats.embedded} embedded "
        f"in {stats.seconds:.2f} s",
        highlight=False,
    )
    for error in stats.errors[:5]:
        console.print(f"[yellow]parse error:[/] {escape(error)}", highlight=False)
    for note in stats.notes[:5]:
        console.print(f"[dim]skipped:[/] {escape(note)}", highlight=False)
    if len(stats.notes) > 5:
        console.print(f"[dim]… {len(stats.notes) - 5} more skipped (see the log)[/]")
    if stats.embed_error:
        err_console.print(
            f"[yellow]embedding stopped:[/] {escape(stats.embed_error)} (symbols and text "
            "search are complete; the next `atoll index` continues)",
            highlight=False,
        )
