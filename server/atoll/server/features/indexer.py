"""The workspace index in the server: open at start-up, index in the background, keep fresh.

``server.index`` is set as soon as the index opens (before any run), and requests
await that moment (``server.opened_index()``), so the first ``workspace/symbol`` after
start answers from the index on disk. Then the freshness check runs in the background.

When another process writes this workspace's index (an ``atoll index`` in a terminal,
another editor window's server), this server reads it and says so in ``atoll.status``;
it tries to take over as the writer every ``indexing.takeover_s`` seconds and indexes
once it has. The run reports LSP work-done progress for parsing and for embedding.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from atoll.server.app import AtollServer, uri_to_path

if TYPE_CHECKING:
    from atoll.indexing import IndexStats, WorkspaceIndex

log = logging.getLogger(__name__)
REPORT_EVERY_S = 0.2


class IndexerState:
    """What the status section shows; written by the indexing thread, read anywhere."""

    def __init__(self) -> None:
        self.state = "off"
        self.phase = ""
        self.done = 0
        self.total = 0
        self.error = ""
        self.writer = ""  # who writes the index when this server only reads it
        self.seconds = 0.0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def set(self, **values: Any) -> None:
        with self.lock:
            for key, value in values.items():
                setattr(self, key, value)

    def refresh_counts(self, server: AtollServer) -> None:
        """Recount (in a worker thread): the status request itself never touches SQLite."""
        index = server.index
        if index is None or index.closed:
            return
        try:
            counts = index.stats()
        except Exception as exc:
            log.debug("index counts unavailable: %s", exc)
            return
        with self.lock:
            self.counts = counts

    def snapshot(self, server: AtollServer) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {"state": self.state, "done": self.done, "total": self.total}
            for key in ("phase", "error", "writer", "seconds"):
                if getattr(self, key):
                    data[key] = getattr(self, key)
            data.update(self.counts)
        index = server.index
        if index is not None and not index.closed and index.vectors.error:
            data["vectors"] = index.vectors.error
        return data


class _Progress:
    """Work-done progress for one run (a no-op when the client has none)."""

    def __init__(self, server: AtollServer) -> None:
        self.server = server
        self.token = ""
        self.last = 0.0

    async def begin(self) -> None:
        caps = self.server.client_capabilities
        if not (caps and caps.window and caps.window.work_done_progress):
            return
        token = f"atoll-index-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), 10)
            self.server.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(title="atoll: indexing", percentage=0),
            )
            self.token = token
        except Exception as exc:
            log.debug("work-done progress unavailable: %s", exc)

    def report(self, loop: asyncio.AbstractEventLoop, message: str, pct: int, last: bool) -> None:
        now = time.monotonic()
        if not self.token or (now - self.last < REPORT_EVERY_S and not last):
            return
        self.last = now
        report = types.WorkDoneProgressReport(message=message, percentage=pct)
        loop.call_soon_threadsafe(self.server.work_done_progress.report, self.token, report)

    def end(self, message: str) -> None:
        if self.token:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )


async def _open(server: AtollServer, state: IndexerState) -> WorkspaceIndex | None:
    from atoll.indexing import WorkspaceIndex

    assert server.root is not None
    try:
        index = await asyncio.to_thread(
            WorkspaceIndex.open, server.root, server.config, command="serve", interactive=True
        )
    except Exception as exc:
        state.set(state="error", error=f"{type(exc).__name__}: {exc}")
        log.exception("could not open the index: %s", exc)
        return None
    if index.store.recovered_from is not None:
        server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"atoll: the index database was damaged; it was set aside as "
                f"{index.store.recovered_from.name} and is being rebuilt.",
            )
        )
    return index


async def _run_index(server: AtollServer, state: IndexerState) -> None:
    try:
        if server.root is None or not server.config.indexing.enabled:
            return
        index = await _open(server, state)
        server.index = index
    finally:
        server.index_opened.set()
    if index is None:
        return
    await asyncio.to_thread(state.refresh_counts, server)
    while not index.writable:
        state.set(state="reader", writer=index.read_only_reason())
        log.info("reading the index only: %s; will take over when it is done", state.writer)
        await asyncio.sleep(max(0.1, server.config.indexing.takeover_s))
        if index.closed or server.index is not index:
            return
        await asyncio.to_thread(state.refresh_counts, server)
        try:
            await asyncio.to_thread(index.promote)
        except Exception as exc:
            log.warning("could not take over writing the index: %s", exc)
    state.set(writer="")
    await _full_run(server, state, index)


async def _full_run(server: AtollServer, state: IndexerState, index: WorkspaceIndex) -> None:
    from atoll.indexing import IndexClosedError

    loop = asyncio.get_running_loop()
    progress = _Progress(server)
    await progress.begin()
    counted = [0.0]

    def report(done: int, total: int, current: str = "", phase: str = "parsing") -> None:
        state.set(phase=phase, done=done, total=total)
        now = time.monotonic()
        if now - counted[0] >= 1.0:
            counted[0] = now
            state.refresh_counts(server)
        pct = int(100 * done / total) if total else 100
        what = (
            f"{done}/{total} {current}"
            if phase == "parsing"
            else f"embedding {done}/{total} chunks"
        )
        progress.report(loop, what, pct, done == total)

    state.set(state="indexing")
    try:
        stats = await asyncio.to_thread(index.index_all, report)
        await asyncio.to_thread(state.refresh_counts, server)
        await asyncio.to_thread(index.find_symbols, "warm", 1)  # builds the fuzzy-name cache
        state.set(state="ready", phase="", seconds=stats.seconds, error=stats.embed_error)
        message = _summary(stats)
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
    progress.end(message)


def _summary(stats: IndexStats) -> str:
    text = f"{stats.files} files, {stats.symbols} symbols in {stats.seconds:.1f} s"
    if stats.embed_error:
        text += f"; embedding stopped: {stats.embed_error}"
    return text


def _reindex(server: AtollServer, state: IndexerState, uri: str, *, deleted: bool = False) -> None:
    index = server.index
    path = uri_to_path(uri)
    if index is None or path is None or index.closed or not index.writable:
        return  # a reader: the process that writes the index sees the change itself
    if deleted:
        index.remove_file(path)
    else:
        index.update_file(path)
    state.refresh_counts(server)


def register(server: AtollServer) -> None:
    state = IndexerState()
    server.status_providers["index"] = lambda: state.snapshot(server)

    async def start() -> None:
        server.spawn(_run_index(server, state), name="index")

    async def stop() -> None:
        index, server.index = server.index, None
        if index is not None:
            await asyncio.to_thread(index.close)

    server.on_initialized.append(start)
    server.on_shutdown.append(stop)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    @server.guarded("index didSave")
    async def did_save(ls: AtollServer, params: types.DidSaveTextDocumentParams) -> None:
        await asyncio.to_thread(_reindex, ls, state, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @server.guarded("index didChangeWatchedFiles")
    async def watched(ls: AtollServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            await asyncio.to_thread(
                _reindex, ls, state, change.uri, deleted=change.type == types.FileChangeType.Deleted
            )
