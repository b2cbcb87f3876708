"""What completion needs from the workspace index: any object with these two methods
(``atoll.indexing.WorkspaceIndex``, or ``None``) will do."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class CodeIndex(Protocol):
    """What completion asks the workspace index (``atoll.indexing.WorkspaceIndex``)."""

    def definitions(self, name: str) -> Sequence[SymbolLike]: ...

    def search(self, query: str, k: int = 10) -> Sequence[HitLike]: ...


class SymbolLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def signature(self) -> str: ...
    @property
    def start_line(self) -> int: ...


class HitLike(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
