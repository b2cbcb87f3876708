"""What hover needs from the index and the model, as small protocols (testable alone)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from atoll.codeindex import HitLike, SymbolLike

__all__ = ["ChatModel", "HitLike", "SymbolLike", "SymbolSource"]


class SymbolSource(Protocol):
    """Definitions by name and code search: a subset of ``atoll.indexing.WorkspaceIndex``."""

    def definitions(self, name: str) -> Sequence[SymbolLike]: ...

    def search(self, query: str, k: int = 10, *, mode: str = "hybrid") -> Sequence[HitLike]:
        """Code search; ``mode="lexical"`` never loads the embedding model."""
        ...


class ChatModel(Protocol):
    """One shared chat model; a set ``cancel`` event stops a running decode."""

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str: ...
