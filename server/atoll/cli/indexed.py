"""What the commands that read the index share: open it, ask, close, say why it was empty."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

from atoll.cli.common import err_console
from atoll.config import AtollConfig

if TYPE_CHECKING:
    from atoll.indexing import WorkspaceIndex

T = TypeVar("T")
NOT_INDEXED = "{root} has no index yet: run `atoll index` there first"


def query_index(
    root: Path, config: AtollConfig, question: Callable[[WorkspaceIndex], T], *, busy: str = ""
) -> tuple[T, bool]:
    """Open the workspace's index, ask it ``question``, close it. Also says whether
    anything is indexed at all; ``busy`` is a spinner's text while the question runs."""
    from atoll.indexing import WorkspaceIndex

    idx = WorkspaceIndex.open(root, config)
    try:
        with err_console.status(busy, spinner="dots") if busy else nullcontext():
            answer = question(idx)
        indexed = idx.stats()["files"] > 0
    finally:
        idx.close()
    return answer, indexed


def nothing_found(message: str, root: Path, *, indexed: bool) -> NoReturn:
    """Exit 1 saying why a query came back empty: no match, or no index yet."""
    err_console.print(
        message if indexed else NOT_INDEXED.format(root=root), highlight=False, markup=False
    )
    raise typer.Exit(1)


def shown_path(path: Path, root: Path) -> str:
    """A path as the user reads it: relative to the workspace when it is inside it."""
    return str(path.relative_to(root) if path.is_relative_to(root) else path)
