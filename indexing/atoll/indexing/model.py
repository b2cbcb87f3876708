"""The plain values the index hands out: symbols, search hits, chunks and run statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# LSP SymbolKind values (the engine never imports lsprotocol).
FILE, MODULE, NAMESPACE, PACKAGE, CLASS, METHOD, PROPERTY, FIELD = 1, 2, 3, 4, 5, 6, 7, 8
CONSTRUCTOR, ENUM, INTERFACE, FUNCTION, VARIABLE, CONSTANT = 9, 10, 11, 12, 13, 14
ENUM_MEMBER, STRUCT, EVENT, TYPE_PARAMETER, OBJECT = 22, 23, 24, 26, 19

KIND_NAMES: dict[int, str] = {
    FILE: "file",
    MODULE: "module",
    NAMESPACE: "namespace",
    PACKAGE: "package",
    CLASS: "class",
    METHOD: "method",
    PROPERTY: "property",
    FIELD: "field",
    CONSTRUCTOR: "constructor",
    ENUM: "enum",
    INTERFACE: "interface",
    FUNCTION: "function",
    VARIABLE: "variable",
    CONSTANT: "constant",
    OBJECT: "object",
    ENUM_MEMBER: "enum member",
    STRUCT: "struct",
    EVENT: "event",
    TYPE_PARAMETER: "type parameter",
}


@dataclass(frozen=True)
class Symbol:
    """One definition: a class, function, method, struct, QML object ...

    Lines and columns are 0-based; columns count characters (code points) of the line,
    the server converts them to the client's position encoding.
    """

    name: str
    kind: int  # LSP SymbolKind value (e.g. 5 class, 12 function, 6 method)
    container: str  # qualified container, "" at top level
    path: Path  # absolute
    language: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    sel_start_line: int
    sel_start_col: int
    sel_end_line: int
    sel_end_col: int
    signature: str
    doc: str  # first docstring / doc-comment line
    references: int = 0

    @property
    def qualified_name(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, "symbol")


@dataclass(frozen=True)
class SearchHit:
    """A retrieved piece of code: a chunk with where it lives and how well it matched."""

    path: Path
    language: str
    start_line: int
    end_line: int
    text: str
    symbol: str
    score: float


@dataclass(frozen=True)
class Chunk:
    """A retrieval unit: a function, method, class or QML object, or a line window."""

    path: Path
    language: str
    symbol: str  # symbol path, e.g. "Inventory.add"; "" for line windows
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, inclusive
    text: str
    content_hash: str
    # Searched and embedded with the text, never shown: the file and the signatures
    # of the definitions around the chunk ("models.py | class Inventory(Base)").
    context: str = ""


@dataclass
class IndexStats:
    """What one indexing run did."""

    files: int = 0  # files seen
    indexed: int = 0  # files (re-)parsed this run
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0  # binary, too large, unreadable
    failed: int = 0  # parse errors (the file still got line-window chunks)
    symbols: int = 0  # symbols in the whole index afterwards
    chunks: int = 0
    embedded: int = 0  # chunks embedded this run
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # "path: parse error"
    notes: list[str] = field(default_factory=list)  # "path: why it was skipped"
    embed_error: str = ""  # why embedding stopped (the symbols and text are indexed)


class Progress(Protocol):
    """``progress(done, total, current)`` per parsed file (``current``: its path), then
    ``progress(done, total, "", phase="embedding")`` per embedded chunk."""

    def __call__(
        self, done: int, total: int, current: str = "", phase: str = "parsing"
    ) -> None: ...
