"""Index symbols ↔ LSP types (shared by the symbol and definition features)."""

from __future__ import annotations

from typing import TypeVar

from lsprotocol import types

from atoll.indexing import Symbol

Flat = TypeVar("Flat", types.SymbolInformation, types.WorkspaceSymbol)


def symbol_range(s: Symbol) -> types.Range:
    return types.Range(
        types.Position(s.start_line, s.start_col), types.Position(s.end_line, s.end_col)
    )


def selection_range(s: Symbol) -> types.Range:
    return types.Range(
        types.Position(s.sel_start_line, s.sel_start_col),
        types.Position(s.sel_end_line, s.sel_end_col),
    )


def symbol_kind(s: Symbol) -> types.SymbolKind:
    try:
        return types.SymbolKind(s.kind)
    except ValueError:
        return types.SymbolKind.Variable


def location(s: Symbol) -> types.Location:
    return types.Location(uri=s.path.as_uri(), range=selection_range(s))


def flat(cls: type[Flat], symbols: list[Symbol]) -> list[Flat]:
    """Symbols as a flat list of ``SymbolInformation`` or ``WorkspaceSymbol``, which
    carry the same fields."""
    return [
        cls(
            name=s.name,
            kind=symbol_kind(s),
            location=location(s),
            container_name=s.container or None,
        )
        for s in symbols
    ]
