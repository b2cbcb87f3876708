"""What hover needs from the index and the model, as small protocols (testable alone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Unpack

from atoll.codeindex import HitLike, SymbolLike
from atoll.models.types import ChatLimits

__all__ = ["ChatModel", "HitLike", "SymbolLike", "SymbolSource"]


class SymbolSource(Protocol):
    """Definitions by name and code search: a subset of ``atoll.indexing.WorkspaceIndex``."""

    def definitions(self, name: str) -> Sequence[SymbolLike]: ...

    def search(self, query: str, k: int = 10, *, mode: str = "hybrid") -> Sequence[HitLike]:
        """Code search; ``mode="lexical"`` never loads the embedding model."""
        ...


class ChatModel(Protocol):
    """One shared chat model; a set ``cancel`` event stops a running decode."""

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str: ...
