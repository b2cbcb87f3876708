"""``atoll index [PATH]``: build or refresh the workspace index, with a progress bar."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from atoll.cli.common import (
    JSON_OPTION,
    SET_OPTION,
    console,
    fail,
    find_workspace,
    load,
    print_json,
)


def register(app: typer.Typer) -> None:
    @app.command()
    def index(
        path: Path = typer.Argument(None, help="Workspace folder (default: the current one)."),
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Index a workspace: symbols, chunks and (unless turned off) embeddings."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from atoll.indexing import WorkspaceIndex

        root = find_workspace(path) if path is None else path.resolve()
        if not root.is_dir():
            fail(f"{root} is not a folder")
        loaded = load(root, sets)
        idx = WorkspaceIndex.open(root, loaded.config)
        try:
            if as_json:
                stats = idx.index_all()
            else:
                with Progress(
                    TextColumn("[bold]indexing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("{task.description}"),
                    console=console,
                    transient=True,
                ) as bar:
                    task = bar.add_task("", total=None)

                    def progress(done: int, total: int, current: str) -> None:
                        bar.update(task, completed=done, total=total, description=current[-60:])

                    stats = idx.index_all(progress)
        finally:
            idx.close()
        if as_json:
            print_json({"workspace": root, "index": idx.folder, **asdict(stats)})
            return
        console.print(
            f"[green]indexed[/] {root}: {stats.files} files ({stats.indexed} parsed, "
            f"{stats.unchanged} unchanged, {stats.removed} removed, {stats.skipped} skipped), "
            f"{stats.symbols} symbols, {stats.chunks} chunks, {stats.embedded} embedded "
            f"in {stats.seconds:.2f} s",
            highlight=False,
        )
        for error in stats.errors[:5]:
            console.print(f"[yellow]parse error:[/] {error}", highlight=False)
