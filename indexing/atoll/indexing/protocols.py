"""The small interfaces other packages code against (so each can be tested alone)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from atoll.indexing.model import SearchHit, Symbol


class Retriever(Protocol):
    """Code search, as used by completion context, hover and the agents' search tool."""

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        path_prefix: str | None = None,
    ) -> list[SearchHit]: ...


class SymbolLookup(Protocol):
    """Symbol queries and the repository outline."""

    def find_symbols(self, query: str, limit: int = 50) -> list[Symbol]: ...

    def definitions(self, name: str) -> list[Symbol]: ...

    def symbols_in_file(self, path: Path, text: str | None = None) -> list[Symbol]: ...

    def outline(self, budget_tokens: int = 1024, focus: Sequence[Path] = ()) -> str: ...
