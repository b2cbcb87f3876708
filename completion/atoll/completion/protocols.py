"""What completion needs from the workspace index: any object with these two methods
(``atoll.indexing.WorkspaceIndex``, or ``None``) will do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from atoll.codeindex import HitLike, SymbolLike

__all__ = ["CodeIndex", "HitLike", "SymbolLike"]


class CodeIndex(Protocol):
    """What completion asks the workspace index (``atoll.indexing.WorkspaceIndex``)."""

    def definitions(self, name: str) -> Sequence[SymbolLike]: ...

    def search(self, query: str, k: int = 10) -> Sequence[HitLike]: ...
