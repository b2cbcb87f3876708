"""The workspace index in the server: open at start-up, index in the background, keep fresh.

``server.index`` is set as soon as the index opens, before the first run finishes, so
requests are answered from what is indexed so far. The run reports LSP work-done
progress (when the client supports it) and ``atoll.status`` shows its state.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer, uri_to_path

log = logging.getLogger(__name__)
REPORT_EVERY_S = 0.2


class IndexerState:
    """What the status section shows; written by the indexing thread, read anywhere."""

    def __init__(self) -> None:
        self.state = "off"
        self.done = 0
        self.total = 0
        self.error = ""
        self.seconds = 0.0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

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
            if self.error:
                data["error"] = self.error
            if self.seconds:
                data["seconds"] = self.seconds
        index = server.index
        if index is not None and not index.closed:
            try:
                counts = index.stats()
                data.update(
                    symbols=counts["symbols"], files=counts["files"], chunks=counts["chunks"]
                )
            except Exception as exc:
                data["error"] = f"{type(exc).__name__}: {exc}"
        return data


def _progress_supported(server: AtollServer) -> bool:
    caps = server.client_capabilities
    return bool(caps and caps.window and caps.window.work_done_progress)


async def _run_index(server: AtollServer, state: IndexerState) -> None:
    from atoll.indexing import IndexClosedError, WorkspaceIndex

    if server.root is None or not server.config.indexing.enabled:
        return
    loop = asyncio.get_running_loop()
    try:
        index = await asyncio.to_thread(WorkspaceIndex.open, server.root, server.config)
    except Exception as exc:
        with state.lock:
            state.state, state.error = "error", f"{type(exc).__name__}: {exc}"
        log.exception("could not open the index: %s", exc)
        return
    server.index = index
    if index.store.recovered_from is not None:
        server.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"atoll: the index database was damaged; it was set aside as "
                f"{index.store.recovered_from.name} and is being rebuilt.",
            )
        )
    token = ""
    if _progress_supported(server):
        token = f"atoll-index-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(server.work_done_progress.create_async(token), 10)
            server.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title="atoll: indexing", percentage=0, cancellable=False
                ),
            )
        except Exception as exc:
            log.debug("work-done progress unavailable: %s", exc)
            token = ""
    last = [0.0, 0.0]

    def progress(done: int, total: int, path: str) -> None:
        with state.lock:
            state.done, state.total = done, total
        now = time.monotonic()
        if now - last[1] >= 1.0:
            last[1] = now
            state.refresh_counts(server)
        if token and (now - last[0] >= REPORT_EVERY_S or done == total):
            last[0] = now
            pct = int(100 * done / total) if total else 100
            loop.call_soon_threadsafe(
                server.work_done_progress.report,
                token,
                types.WorkDoneProgressReport(message=f"{done}/{total} {path}", percentage=pct),
            )

    with state.lock:
        state.state = "indexing"
    try:
        stats = await asyncio.to_thread(index.index_all, progress)
        await asyncio.to_thread(state.refresh_counts, server)
        await asyncio.to_thread(index.find_symbols, "warm", 1)  # builds the fuzzy-name cache
        with state.lock:
            state.state, state.seconds = "ready", stats.seconds
        message = f"{stats.files} files, {stats.symbols} symbols in {stats.seconds:.1f} s"
        log.info("index ready: %s", message)
    except IndexClosedError:
        # Shutdown closed the index under the run: it stopped at a file boundary.
        with state.lock:
            state.state = "closed"
        message = "indexing stopped: the server is shutting down"
        log.info(message)
    except Exception as exc:
        with state.lock:
            state.state, state.error = "error", f"{type(exc).__name__}: {exc}"
        message = f"indexing failed: {exc}"
        log.exception("indexing failed: %s", exc)
    if token:
        server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))


def _reindex(server: AtollServer, state: IndexerState, uri: str, *, deleted: bool = False) -> None:
    index = server.index
    path = uri_to_path(uri)
    if index is None or path is None or index.closed:
        return
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
