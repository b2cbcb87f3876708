"""What hover needs from the index and the model, as small protocols (testable alone)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class SymbolLike(Protocol):
    """The fields of :class:`atoll.indexing.Symbol` that hover reads."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> int: ...
    @property
    def container(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def language(self) -> str: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def sel_start_line(self) -> int: ...
    @property
    def signature(self) -> str: ...
    @property
    def doc(self) -> str: ...
    @property
    def references(self) -> int: ...


class HitLike(Protocol):
    """The fields of :class:`atoll.indexing.SearchHit` that hover reads."""

    @property
    def path(self) -> Path: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def text(self) -> str: ...


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
