"""Retrieval chunks: AST nodes (a function, method, class, QML object) cut to a token size.

A node that fits is one chunk; a larger one is split at its children's boundaries,
recursively. Leading comments stick to the node after them, and small neighbours are
merged while the result still fits. Files without a grammar get line windows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from atoll.indexing.model import Chunk, Symbol

BYTES_PER_TOKEN = 4  # a rough, model-independent estimate for code
WINDOW_LINES = 40


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def estimate_tokens(text: str) -> int:
    return (len(text) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


def _atoms(node: Any, max_bytes: int, out: list[tuple[int, int, int, int, bool]]) -> None:
    """Leaf spans (start_byte, end_byte, start_row, end_row, is_comment) that fit, in order."""
    if node.end_byte - node.start_byte <= max_bytes or node.named_child_count == 0:
        out.append((node.start_byte, node.end_byte, node.start_point[0], node.end_point[0], False))
        return
    first = node.named_children[0]
    if first.start_point[0] > node.start_point[0]:
        # The header of a large node (`class Foo(Base):`) before its first child.
        out.append(
            (
                node.start_byte,
                first.start_byte,
                node.start_point[0],
                first.start_point[0] - 1,
                False,
            )
        )
    for child in node.named_children:
        if "comment" in child.type:
            out.append(
                (child.start_byte, child.end_byte, child.start_point[0], child.end_point[0], True)
            )
        else:
            _atoms(child, max_bytes, out)


def _attach_comments(
    atoms: list[tuple[int, int, int, int, bool]], max_bytes: int
) -> list[tuple[int, int, int, int]]:
    """Glue a run of comments onto the node that follows it, when the pair still fits."""
    merged: list[tuple[int, int, int, int]] = []
    pending: list[tuple[int, int, int, int, bool]] = []
    for atom in atoms:
        if atom[4]:
            pending.append(atom)
            continue
        if pending and atom[1] - pending[0][0] <= max_bytes:
            merged.append((pending[0][0], atom[1], pending[0][2], atom[3]))
        else:
            merged.extend(p[:4] for p in pending)
            merged.append(atom[:4])
        pending = []
    merged.extend(p[:4] for p in pending)
    return merged


def _symbol_for(symbols: list[Symbol], start: int, end: int) -> str:
    inside = [s for s in symbols if start <= s.start_line <= end]
    if inside:
        return inside[0].qualified_name
    around = [s for s in symbols if s.start_line <= start and s.end_line >= end]
    return around[-1].qualified_name if around else ""


def _make(path: Path, language: str, lines: list[str], start: int, end: int, symbol: str) -> Chunk:
    text = "\n".join(lines[start : end + 1])
    return Chunk(path, language, symbol, start, end, text, content_hash(text))


def ast_chunks(
    path: Path,
    language: str,
    text: str,
    tree: Any,
    symbols: list[Symbol],
    max_tokens: int,
) -> list[Chunk]:
    """AST chunks of a parsed file (line-window chunks when the tree gives none)."""
    max_bytes = max(64, max_tokens * BYTES_PER_TOKEN)
    raw: list[tuple[int, int, int, int, bool]] = []
    _atoms(tree.root_node, max_bytes, raw)
    atoms = _attach_comments(raw, max_bytes)
    lines = text.split("\n")
    chunks: list[Chunk] = []
    group: tuple[int, int, int, int] | None = None
    for atom in atoms:
        if group is not None and atom[1] - group[0] <= max_bytes:
            group = (group[0], atom[1], group[2], max(group[3], atom[3]))
            continue
        if group is not None:
            chunks.extend(_emit(path, language, lines, group, symbols, max_tokens))
        group = atom
    if group is not None:
        chunks.extend(_emit(path, language, lines, group, symbols, max_tokens))
    return chunks or line_chunks(path, language, text, max_tokens)


def _emit(
    path: Path,
    language: str,
    lines: list[str],
    group: tuple[int, int, int, int],
    symbols: list[Symbol],
    max_tokens: int,
) -> list[Chunk]:
    start, end = group[2], max(group[2], group[3])
    if not any(lines[i].strip() for i in range(start, min(end + 1, len(lines)))):
        return []
    chunk = _make(path, language, lines, start, end, _symbol_for(symbols, start, end))
    if estimate_tokens(chunk.text) <= max_tokens * 2:
        return [chunk]
    # One huge leaf (a long string, a table): fall back to windows within it.
    windows = line_chunks(path, language, chunk.text, max_tokens)
    return [
        _make(path, language, lines, w.start_line + start, w.end_line + start, chunk.symbol)
        for w in windows
    ]


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
            chunks.append(_make(path, language, lines, start, end - 1, ""))
        start = end
    return chunks
