"""``workspace/symbol``: fuzzy search over the index (from disk at once, and while indexing runs)."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.features._symbol_convert import location, symbol_kind

LIMIT = 50


def register(server: AtollServer) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    @server.guarded("workspace/symbol", default=[])
    async def workspace_symbol(
        ls: AtollServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        index = await ls.opened_index()
        if index is None:
            return []
        found = await asyncio.to_thread(index.find_symbols, params.query, LIMIT)
        return [
            types.WorkspaceSymbol(
                name=s.name,
                kind=symbol_kind(s),
                location=location(s),
                container_name=s.container or None,
            )
            for s in found
        ]
