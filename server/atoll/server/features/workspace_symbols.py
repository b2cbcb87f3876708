"""``workspace/symbol``: fuzzy search over the index (from disk at once, and while indexing runs)."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.features._symbol_convert import flat

LIMIT = 50


async def workspace_symbol(
    ls: AtollServer, params: types.WorkspaceSymbolParams
) -> list[types.WorkspaceSymbol]:
    """The index's symbols whose names fuzzily match the query, best first."""
    index = await ls.opened_index()
    if index is None:
        return []
    found = await asyncio.to_thread(index.find_symbols, params.query, LIMIT)
    return flat(types.WorkspaceSymbol, found)


def register(server: AtollServer) -> None:
    server.feature(types.WORKSPACE_SYMBOL)(
        server.guarded("workspace/symbol", default=[])(workspace_symbol)
    )
