"""The index in a long-running process (the language server): open, wait, run, keep fresh.

The steps a server takes, in order: :func:`open_index` at start-up (before any run, so
requests answer from the index on disk at once); :func:`wait_to_write` while another
process (an ``atoll index`` in a terminal, another editor window's server) writes this
workspace's index, trying to take over every ``indexing.takeover_s`` seconds; then
:func:`index_run`, and :func:`reindex` for each saved or changed file. What they did is
kept in an :class:`IndexerState`, for the server's status.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atoll.config import AtollConfig
    from atoll.indexing import IndexStats, WorkspaceIndex

log = logging.getLogger(__name__)
COUNT_EVERY_S = 1.0  # how often a run recounts symbols and chunks for the status
# (message, percentage, whether it is the last report of its phase), from the run's thread
Report = Callable[[str, int, bool], None]


class IndexerState:
    """What the status section shows; written by the indexing thread, read anywhere."""

    def __init__(self) -> None:
        self.state = "off"
        self.phase = ""
        self.done = 0
        self.total = 0
        self.error = ""
        self.writer = ""  # who writes the index when this process only reads it
        self.seconds = 0.0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def set(self, **values: Any) -> None:
        with self.lock:
            for key, value in values.items():
                setattr(self, key, value)

    def refresh_counts(self, index: WorkspaceIndex | None) -> None:
        """Recount (in a worker thread): the status request itself never touches SQLite."""
        if index is None or index.closed:
            return
        try:
            counts = index.stats()
        except Exception as exc:
            log.debug("index counts unavailable: %s", exc)
            return
        with self.lock:
            self.counts = counts

    def snapshot(self, index: WorkspaceIndex | None) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {"state": self.state, "done": self.done, "total": self.total}
            for key in ("phase", "error", "writer", "seconds"):
                if getattr(self, key):
                    data[key] = getattr(self, key)
            data.update(self.counts)
        if index is not None and not index.closed and index.vectors.error:
            data["vectors"] = index.vectors.error
        return data


async def open_index(root: Path, config: AtollConfig, state: IndexerState) -> WorkspaceIndex | None:
    """The workspace's index, opened for a server; None (and the error in ``state``)
    when it cannot open."""
    from atoll.indexing import WorkspaceIndex

    try:
        index = await asyncio.to_thread(
            WorkspaceIndex.open, root, config, command="serve", interactive=True
        )
    except Exception as exc:
        state.set(state="error", error=f"{type(exc).__name__}: {exc}")
        log.exception("could not open the index: %s", exc)
        return None
    return index


async def wait_to_write(
    index: WorkspaceIndex,
    state: IndexerState,
    takeover_s: Callable[[], float],
    current: Callable[[], WorkspaceIndex | None],
) -> bool:
    """Read while another process writes, trying to take over every ``takeover_s()``
    seconds; False when ``index`` was closed or replaced (``current()``) meanwhile."""
    while not index.writable:
        state.set(state="reader", writer=index.read_only_reason())
        log.info("reading the index only: %s; will take over when it is done", state.writer)
        await asyncio.sleep(max(0.1, takeover_s()))
        if index.closed or current() is not index:
            return False
        await asyncio.to_thread(state.refresh_counts, index)
        try:
            await asyncio.to_thread(index.promote)
        except Exception as exc:
            log.warning("could not take over writing the index: %s", exc)
    state.set(writer="")
    return True


async def index_run(index: WorkspaceIndex, state: IndexerState, report: Report) -> str:
    """Bring the index up to date (in a worker thread); what happened, in one line."""
    from atoll.indexing import IndexClosedError

    counted = [0.0]

    def progress(done: int, total: int, current: str = "", phase: str = "parsing") -> None:
        state.set(phase=phase, done=done, total=total)
        now = time.monotonic()
        if now - counted[0] >= COUNT_EVERY_S:
            counted[0] = now
            state.refresh_counts(index)
        pct = int(100 * done / total) if total else 100
        what = (
            f"{done}/{total} {current}"
            if phase == "parsing"
            else f"embedding {done}/{total} chunks"
        )
        report(what, pct, done == total)

    state.set(state="indexing")
    try:
        stats = await asyncio.to_thread(index.index_all, progress)
        await asyncio.to_thread(state.refresh_counts, index)
        await asyncio.to_thread(index.find_symbols, "warm", 1)  # builds the fuzzy-name cache
        state.set(state="ready", phase="", seconds=stats.seconds, error=stats.embed_error)
        message = summary(stats)
        log.info("index ready: %s", message)
    except IndexClosedError:
        # Shutdown closed the index under the run: it stopped at a batch boundary.
        state.set(state="closed")
        message = "indexing stopped: the server is shutting down"
        log.info(message)
    except Exception as exc:
        state.set(state="error", error=f"{type(exc).__name__}: {exc}")
        message = f"indexing failed: {exc}"
        log.exception("indexing failed: %s", exc)
    return message


def summary(stats: IndexStats) -> str:
    text = f"{stats.files} files, {stats.symbols} symbols in {stats.seconds:.1f} s"
    if stats.embed_error:
        text += f"; embedding stopped: {stats.embed_error}"
    return text


def reindex(
    index: WorkspaceIndex | None, state: IndexerState, path: Path | None, *, deleted: bool = False
) -> None:
    """Re-read one saved, changed or deleted file (blocking: call it in a worker thread)."""
    if index is None or path is None or index.closed or not index.writable:
        return  # a reader: the process that writes the index sees the change itself
    if deleted:
        index.remove_file(path)
    else:
        index.update_file(path)
    state.refresh_counts(index)
