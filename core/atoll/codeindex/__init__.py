"""The index as its users see it: the shapes of what it answers, as Protocols.

Completion, hover and the crew read the index's answers (``atoll.indexing.Symbol`` and
``atoll.indexing.SearchHit``) through these, so none of them depends on the indexing
engine, and a test can hand them any object with the fields it reads. Each user
describes the few index methods it calls in its own small Protocol, in these terms.
Lines are 0-based, paths absolute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TypedDict

__all__ = ["HitLike", "Scope", "SearchScope", "Span", "SymbolLike"]


class Scope(TypedDict, total=False):
    """Where to look: one language, and files under one workspace-relative folder."""

    language: str | None
    path_prefix: str | None


class SearchScope(Scope, total=False):
    """A search's scope and ``mode``: "hybrid", "lexical" (never loads the embedding
    model) or "vector"."""

    mode: str


class Span(Protocol):
    """Lines of one file: what a symbol and a search hit both are."""

    @property
    def path(self) -> Path: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...


class SymbolLike(Span, Protocol):
    """One definition the index found (:class:`atoll.indexing.Symbol`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> int: ...  # an LSP SymbolKind value
    @property
    def kind_name(self) -> str: ...  # "class", "function", ...
    @property
    def container(self) -> str: ...  # the qualified container, "" at top level
    @property
    def language(self) -> str: ...
    @property
    def sel_start_line(self) -> int: ...  # the line of the name itself
    @property
    def signature(self) -> str: ...
    @property
    def doc(self) -> str: ...  # the first docstring or doc-comment line
    @property
    def references(self) -> int: ...


class HitLike(Span, Protocol):
    """One piece of code a search found (:class:`atoll.indexing.SearchHit`)."""

    @property
    def text(self) -> str: ...
    @property
    def symbol(self) -> str: ...  # the enclosing definition's path, "" for a line window
    @property
    def score(self) -> float: ...
