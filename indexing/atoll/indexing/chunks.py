"""Retrieval chunks cut along the definitions of a file, each carrying where it sits.

A definition (function, method, class, struct, QML object) that fits the token budget
is one chunk, with the comments and decorators right above it. A larger one is cut at
its own child definitions, recursively; the lines left between them (a class's header
and fields, a module's statements) become chunks of their own, and a large definition
without children is cut into line windows. Chunks come from the symbols' line ranges,
so no second walk over the syntax tree is needed.

Each chunk also has a *context* line, searched and embedded with it but not shown: the
file, the signatures of the definitions around it (``class Inventory(Base)`` for a
method) and, for a piece of a longer definition, that definition's signature. A
method's chunk then knows its class, and every piece of a long function knows the
function, which is what makes definition-shaped chunks beat plain line windows.
Files without a grammar get line windows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from atoll.indexing import model
from atoll.indexing.model import Chunk, Symbol

BYTES_PER_TOKEN = 4  # a rough, model-independent estimate for code
WINDOW_LINES = 40
# What one embedding sees of a chunk (see embedding_views), and at most how many views.
VIEW_BYTES, MAX_VIEWS = 800, 4
# Definitions that are chunks of their own; fields, variables and constants stay with
# the lines around them.
UNIT_KINDS = frozenset(
    {
        model.CLASS, model.STRUCT, model.INTERFACE, model.ENUM, model.FUNCTION, model.METHOD,
        model.CONSTRUCTOR, model.MODULE, model.NAMESPACE, model.OBJECT,
    }
)  # fmt: skip
# First line, last line, symbol, and the names of the definitions in it (none: lines
# between definitions).
Piece = tuple[int, int, str, tuple[str, ...]]
_LEADING = ("#", "//", "/*", "*", "@", "--", ";", "///", "#[")


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def estimate_tokens(text: str) -> int:
    return (len(text) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def embedding_views(text: str, max_bytes: int = VIEW_BYTES, limit: int = MAX_VIEWS) -> list[str]:
    """A chunk's text as consecutive runs of whole lines of up to ``max_bytes`` each.

    Small embedding models read only the start of a text (all-MiniLM-L6-v2: 256 word
    pieces, about 800 bytes of code): a chunk is embedded once per view, so a method
    at the end of a merged run, or the second half of a long one, is seen too. The
    last of ``limit`` views holds the rest; a short tail joins the view before it.
    """
    views: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        if current and size + len(line) + 1 > max_bytes and len(views) < limit - 1:
            views.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    tail = "\n".join(current)
    if views and len(tail) < max_bytes // 4:
        views[-1] = f"{views[-1]}\n{tail}"
    else:
        views.append(tail)
    return views


@dataclass
class _Unit:
    symbol: Symbol | None  # None: the file
    start: int
    end: int
    children: list[_Unit] = field(default_factory=list)


class _Cutter:
    def __init__(self, path: Path, language: str, text: str, max_tokens: int) -> None:
        self.path = path
        self.language = language
        self.lines = text.split("\n")
        self.max_bytes = max(64, max_tokens * BYTES_PER_TOKEN)
        # Bytes up to each line, so a span's size is one subtraction.
        self.offsets = [0, *accumulate(len(line) + 1 for line in self.lines)]
        self.out: list[Chunk] = []

    def size(self, start: int, end: int) -> int:
        return self.offsets[end + 1] - self.offsets[start]

    def chunk(self, start: int, end: int, symbol: str, context: str) -> None:
        while start <= end and not self.lines[start].strip():
            start += 1
        while end >= start and not self.lines[end].strip():
            end -= 1
        if start > end:
            return
        text = "\n".join(self.lines[start : end + 1])
        self.out.append(
            Chunk(self.path, self.language, symbol, start, end, text, content_hash(text), context)
        )

    def windows(self, start: int, end: int, symbol: str, context: str) -> None:
        """Line windows of up to the token budget over a span (a long definition)."""
        for first, last, _, _ in self._spans(start, end, symbol):
            self.chunk(first, last, symbol, context)

    def unit(self, unit: _Unit, context: str) -> None:
        symbol = unit.symbol
        name = symbol.qualified_name if symbol else ""
        if symbol is not None and self.size(unit.start, unit.end) <= self.max_bytes:
            self._emit_group([_whole(unit)], context)
            return
        inner = _join(context, symbol.signature or name) if symbol else context
        if not unit.children:
            self.windows(unit.start, unit.end, name, inner)
            return
        # Cut at the children. Children that fit, and the lines between them, are
        # pieces; neighbouring pieces are merged while they fit (a run of small
        # functions is one chunk, a class's fields stay with its first method).
        pieces: list[Piece] = []
        cursor = unit.start
        for child in unit.children:
            if child.start > cursor:
                pieces.extend(self._spans(cursor, child.start - 1, name))
            if self.size(child.start, child.end) <= self.max_bytes and child.symbol:
                pieces.append(_whole(child))
            else:
                self.merged(pieces, inner)
                pieces = []
                self.unit(child, inner)
            cursor = child.end + 1
        if cursor <= unit.end:
            pieces.extend(self._spans(cursor, unit.end, name))
        self.merged(pieces, inner)

    def _spans(self, start: int, end: int, name: str) -> list[Piece]:
        """Line windows over a span, as pieces (the text between definitions)."""
        spans: list[Piece] = []
        first = start
        while first <= end:
            last = first
            while last < end and self.size(first, last + 1) <= self.max_bytes:
                last += 1
            spans.append((first, last, name, ()))
            first = last + 1
        return spans

    def merged(self, pieces: list[Piece], context: str) -> None:
        group: list[Piece] = []
        for piece in pieces:
            if group and self.size(group[0][0], piece[1]) > self.max_bytes:
                self._emit_group(group, context)
                group = []
            group.append(piece)
        if group:
            self._emit_group(group, context)

    def _emit_group(self, group: list[Piece], context: str) -> None:
        """One chunk of consecutive pieces; the definitions it holds are named in its
        context, up front, where an embedding model that truncates still sees them."""
        symbols = [p[2] for p in group if p[3]] or [p[2] for p in group if p[2]]
        names = [n for p in group for n in p[3]]
        if len(names) > 1:
            context = _join(context, ", ".join(dict.fromkeys(names)))
        self.chunk(group[0][0], group[-1][1], symbols[0] if symbols else "", context)


def _whole(unit: _Unit) -> Piece:
    """A definition that fits, as a piece: itself and what it defines."""
    assert unit.symbol is not None
    names = (unit.symbol.name, *(c.symbol.name for c in unit.children if c.symbol))
    return (unit.start, unit.end, unit.symbol.qualified_name, names)


def _join(context: str, signature: str) -> str:
    return f"{context} | {signature}" if context else signature


def _units(symbols: list[Symbol], lines: list[str], last_line: int) -> _Unit:
    """The definition tree by line ranges; each unit starts at its leading comments."""
    root = _Unit(None, 0, last_line)
    stack = [root]
    for s in symbols:  # parents come before their children, in source order
        if s.kind not in UNIT_KINDS:
            continue
        start, end = _lead_in(lines, s.start_line), min(s.end_line, last_line)
        while len(stack) > 1 and start > stack[-1].end:
            stack.pop()
        parent = stack[-1]
        if parent.children and start <= parent.children[-1].end:
            if s.end_line <= parent.children[-1].end:
                continue  # on a line of its sibling (a one-line lambda, `a = b = f()`)
            start = parent.children[-1].end + 1
        start = max(start, parent.start if parent.symbol else 0)
        unit = _Unit(s, start, max(start, end))
        parent.children.append(unit)
        stack.append(unit)
    return root


def _lead_in(lines: list[str], start: int) -> int:
    """The first line of the comments and decorators directly above ``start``."""
    while start > 0 and lines[start - 1].strip().startswith(_LEADING):
        start -= 1
    return start


def ast_chunks(
    path: Path, language: str, text: str, symbols: list[Symbol], max_tokens: int
) -> list[Chunk]:
    """Definition-shaped chunks of a parsed file (line windows when it defines nothing)."""
    cutter = _Cutter(path, language, text, max_tokens)
    root = _units(symbols, cutter.lines, len(cutter.lines) - 1)
    if not root.children:
        return line_chunks(path, language, text, max_tokens)
    cutter.unit(root, "")
    return cutter.out


def line_chunks(
    path: Path, language: str, text: str, max_tokens: int, window: int = WINDOW_LINES
) -> list[Chunk]:
    """Windows of up to ``window`` lines and ``max_tokens`` tokens (0: no token limit)."""
    lines = text.split("\n")
    max_chars = max_tokens * BYTES_PER_TOKEN if max_tokens > 0 else 0
    chunks: list[Chunk] = []
    start = 0
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and end - start < window:
            size += len(lines[end]) + 1
            if max_chars and size > max_chars and end > start:
                break
            end += 1
        if any(line.strip() for line in lines[start:end]):
            body = "\n".join(lines[start:end])
            chunks.append(Chunk(path, language, "", start, end - 1, body, content_hash(body)))
        start = end
    return chunks
