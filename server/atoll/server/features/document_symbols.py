"""``textDocument/documentSymbol``: the outline of one file, hierarchical.

Open files are parsed from their buffer (unsaved edits included), others come from the
index. Clients without hierarchical support get a flat ``SymbolInformation`` list.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types

from atoll.indexing import Symbol
from atoll.indexing.index import parse_alone
from atoll.server.app import AtollServer
from atoll.server.documents import open_document
from atoll.server.features._symbol_convert import flat, selection_range, symbol_kind, symbol_range
from atoll.server.lsp import capabilities
from atoll.server.lsp.conversions import uri_to_path
from atoll.server.lsp.texts import TextError, read_disk


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


async def document_symbol(
    ls: AtollServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
    """The file's outline: from its open buffer, else from the index, else its disk text."""
    uri = params.text_document.uri
    path = uri_to_path(uri)
    if path is None:
        return []
    doc = open_document(ls, uri)
    text = doc.source if doc is not None else None
    index = await ls.opened_index()
    if index is not None:
        symbols = await asyncio.to_thread(index.symbols_in_file, path, text)
    else:
        try:
            text = text if text is not None else await asyncio.to_thread(read_disk, path)
        except TextError:
            return []
        symbols = await asyncio.to_thread(parse_alone, path, text)
    if capabilities.hierarchical_symbols(ls.client_capabilities):
        return hierarchy(symbols)
    return flat(types.SymbolInformation, symbols)


def register(server: AtollServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(
        server.guarded("textDocument/documentSymbol", default=[])(document_symbol)
    )
