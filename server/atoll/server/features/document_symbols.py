"""``textDocument/documentSymbol``: the outline of one file, hierarchical.

Open files are parsed from their buffer (unsaved edits included), others come from the
index. Clients without hierarchical support get a flat ``SymbolInformation`` list.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from atoll.indexing import Symbol
from atoll.indexing.index import parse_alone
from atoll.server.app import AtollServer, uri_to_path
from atoll.server.features._symbol_convert import (
    location,
    selection_range,
    symbol_kind,
    symbol_range,
)


def hierarchy(symbols: list[Symbol]) -> list[types.DocumentSymbol]:
    """Nest symbols by range (they arrive parents first, in source order)."""
    roots: list[types.DocumentSymbol] = []
    stack: list[tuple[Symbol, types.DocumentSymbol]] = []
    for s in symbols:
        node = types.DocumentSymbol(
            name=s.name,
            kind=symbol_kind(s),
            range=symbol_range(s),
            selection_range=selection_range(s),
            detail=s.signature or None,
            children=[],
        )
        while stack and not _contains(stack[-1][0], s):
            stack.pop()
        if stack:
            parent = stack[-1][1]
            parent.children = [*(parent.children or []), node]
        else:
            roots.append(node)
        stack.append((s, node))
    return roots


def _contains(outer: Symbol, inner: Symbol) -> bool:
    return (outer.start_line, outer.start_col) <= (inner.start_line, inner.start_col) and (
        inner.end_line,
        inner.end_col,
    ) <= (outer.end_line, outer.end_col)


def _hierarchical(ls: AtollServer) -> bool:
    caps = ls.client_capabilities.text_document
    ds = caps.document_symbol if caps else None
    return bool(ds and ds.hierarchical_document_symbol_support)


def register(server: AtollServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @server.guarded("textDocument/documentSymbol", default=[])
    async def document_symbol(
        ls: AtollServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
        uri = params.text_document.uri
        path = uri_to_path(uri)
        if path is None:
            return []
        doc = ls.workspace.text_documents.get(uri)
        text = doc.source if doc is not None else None
        index = await ls.opened_index()
        if index is not None:
            symbols = await asyncio.to_thread(index.symbols_in_file, path, text)
        else:
            symbols = await asyncio.to_thread(parse_alone, path, text)
        if _hierarchical(ls):
            return hierarchy(symbols)
        return [
            types.SymbolInformation(
                name=s.name,
                kind=symbol_kind(s),
                location=location(s),
                container_name=s.container or None,
            )
            for s in symbols
        ]
