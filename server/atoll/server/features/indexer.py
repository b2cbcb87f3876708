"""The workspace index in the server: open at start-up, index in the background, keep fresh.

``server.index`` is set as soon as the index opens (before any run), and requests
await that moment (``server.opened_index()``), so the first ``workspace/symbol`` after
start answers from the index on disk. Then the freshness check runs in the background.

When another process writes this workspace's index (an ``atoll index`` in a terminal,
another editor window's server), this server reads it and says so in ``atoll.status``;
it tries to take over as the writer every ``indexing.takeover_s`` seconds and indexes
once it has. The run reports LSP work-done progress for parsing and for embedding.
The steps are :mod:`atoll.indexing.background`; this module wires them to the server.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from lsprotocol import types

from atoll.indexing.background import (
    IndexerState,
    index_run,
    open_index,
    reindex,
    wait_to_write,
)
from atoll.server.app import AtollServer
from atoll.server.lsp.conversions import WARNING, show_message, uri_to_path
from atoll.server.lsp.per_server import PerServer
from atoll.server.lsp.progress import WorkDone

REPORT_EVERY_S = 0.2
STATE: PerServer[IndexerState] = PerServer(lambda server: IndexerState())


async def run_index(server: AtollServer) -> None:
    """Open the index, wait until this server may write it, then bring it up to date."""
    state = STATE(server)
    try:
        if server.root is None or not server.config.indexing.enabled:
            return
        index = await open_index(server.root, server.config, state)
        if index is not None and index.store.recovered_from is not None:
            show_message(
                server,
                f"atoll: the index database was damaged; it was set aside as "
                f"{index.store.recovered_from.name} and is being rebuilt.",
                WARNING,
            )
        server.index = index
    finally:
        server.index_opened.set()
    if index is None:
        return
    await asyncio.to_thread(state.refresh_counts, index)
    takeover_s = functools.partial(_takeover_s, server)
    if not await wait_to_write(index, state, takeover_s, lambda: server.index):
        return
    progress = WorkDone(server, name="index", every_s=REPORT_EVERY_S)
    await progress.begin("atoll: indexing", percentage=0)
    message = await index_run(
        index, state, lambda what, pct, last: progress.report(what, percentage=pct, force=last)
    )
    progress.end(message)


def _takeover_s(server: AtollServer) -> float:
    return server.config.indexing.takeover_s  # read each round: a changed setting applies


async def start(server: AtollServer) -> None:
    server.spawn(run_index(server), name="index")


async def stop(server: AtollServer) -> None:
    index, server.index = server.index, None
    if index is not None:
        await asyncio.to_thread(index.close)


async def did_save(ls: AtollServer, params: types.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    await asyncio.to_thread(reindex, ls.index, STATE(ls), path)


async def did_change_watched_files(
    ls: AtollServer, params: types.DidChangeWatchedFilesParams
) -> None:
    for change in params.changes:
        deleted = change.type == types.FileChangeType.Deleted
        path = uri_to_path(change.uri)
        await asyncio.to_thread(reindex, ls.index, STATE(ls), path, deleted=deleted)


def status(server: AtollServer) -> dict[str, Any]:
    return STATE(server).snapshot(server.index)


def register(server: AtollServer) -> None:
    server.status_providers["index"] = functools.partial(status, server)
    server.on_initialized.append(functools.partial(start, server))
    server.on_shutdown.append(functools.partial(stop, server))
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(
        server.guarded("index didSave")(did_save)
    )
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(
        server.guarded("index didChangeWatchedFiles")(did_change_watched_files)
    )
