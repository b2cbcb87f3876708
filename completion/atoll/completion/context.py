"""What goes into a prompt besides the cursor's own file: index snippets, recent edits.

Snippets are chosen from the lines *above* the cursor line only, so typing within a
line never changes them (and the prompt's beginning, where they go, stays the same).
The file's own windows are in :mod:`atoll.completion.window`.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from atoll import languages
from atoll.completion.protocols import CodeIndex
from atoll.completion.templates import ContextFile

log = logging.getLogger(__name__)
Counter = Callable[[str], int]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_KEYWORDS = frozenset(
    [
        "and",
        "as",
        "assert",
        "async",
        "await",
        "break",
        "class",
        "continue",
        "def",
        "del",
        "elif",
        "else",
        "except",
        "false",
        "finally",
        "for",
        "from",
        "global",
        "if",
        "import",
        "in",
        "is",
        "lambda",
        "none",
        "nonlocal",
        "not",
        "or",
        "pass",
        "raise",
        "return",
        "self",
        "true",
        "try",
        "while",
        "with",
        "yield",
        "fn",
        "let",
        "mut",
        "pub",
        "use",
        "impl",
        "struct",
        "enum",
        "match",
        "mod",
        "const",
        "static",
        "trait",
        "where",
        "type",
        "var",
        "function",
        "new",
        "this",
        "null",
        "undefined",
        "int",
        "str",
        "float",
        "bool",
        "dict",
        "list",
        "print",
        "len",
        "range",
        "property",
        "readonly",
        "signal",
        "string",
        "import",
    ]
)


def comment_mark(path: str) -> str:
    """The line-comment marker for a file (from the language registry)."""
    return languages.comment_marker(path)


@dataclass(frozen=True)
class Edit:
    path: str
    line: int
    text: str


class RecentEdits:
    """A ring of chunks around recent edit positions, as llama.vscode keeps."""

    # A chunk is a few short lines whatever the file holds (a minified line, a blob).
    LINE_CHARS = 200

    def __init__(self, size: int = 8, radius: int = 6) -> None:
        self._ring: deque[Edit] = deque(maxlen=max(0, size))
        self.radius = radius

    def record(self, path: str, text: str, line: int, offset: int | None = None) -> None:
        """Remember the lines around ``line`` (at character ``offset`` when known, which
        saves splitting the whole text)."""
        if self._ring.maxlen == 0:
            return
        if offset is None:
            lines = text.split("\n")
            lo, hi = max(0, line - self.radius), min(len(lines), line + self.radius + 1)
            around = lines[lo:hi]
        else:
            around = _lines_around(text, offset, self.radius)
        chunk = "\n".join(ln[: self.LINE_CHARS] for ln in around).strip("\n")
        # One entry per region: a newer edit near the same line replaces the older.
        for old in list(self._ring):
            if old.path == path and abs(old.line - line) <= self.radius:
                self._ring.remove(old)
        if chunk.strip():
            self._ring.append(Edit(path, line, chunk))

    def snippets(self, exclude: str) -> list[ContextFile]:
        """Most recent first, other files only."""
        return [ContextFile(e.path, e.text) for e in reversed(self._ring) if e.path != exclude]


def _lines_around(text: str, offset: int, radius: int, limit: int = 64 * 1024) -> list[str]:
    """The lines within ``radius`` of the one holding ``offset``, found by scanning
    outwards from it (never more than ``limit`` characters of them)."""
    start = offset
    for _ in range(radius + 1):
        start = text.rfind("\n", 0, start)
        if start < 0:
            break
    end = offset - 1
    for _ in range(radius + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    start += 1  # after the newline (or 0)
    return text[start : min(end, start + limit)].split("\n")


def identifiers_near(lines: Sequence[str], limit: int = 8) -> list[str]:
    """Identifiers used in ``lines``, nearest (last) first, keywords dropped."""
    seen: list[str] = []
    for line in reversed(lines):
        for name in reversed(_IDENT.findall(line)):
            if name.lower() not in _KEYWORDS and name not in seen:
                seen.append(name)
                if len(seen) >= limit:
                    return seen
    return seen


class SnippetFinder:
    """Definitions of nearby identifiers and similar chunks, from the index."""

    def __init__(self, root: Path | None, cache_size: int = 64) -> None:
        self.root = root
        self._cache: OrderedDict[tuple[str, str], list[ContextFile]] = OrderedDict()
        self._cache_size = cache_size

    def relative(self, path: Path | None) -> str:
        if path is None:
            return ""
        if self.root is not None:
            try:
                return str(path.resolve().relative_to(self.root.resolve()))
            except ValueError:
                pass
        return path.name

    def find(
        self,
        index: CodeIndex,
        current: str,
        above: Sequence[str],
        *,
        skip_lines: tuple[int, int],
    ) -> list[ContextFile]:
        """Snippets for a cursor below ``above`` (the lines before the cursor line).

        ``skip_lines``: the current file's lines already in the prompt window.
        """
        key = (current, "\n".join(above))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        found: list[ContextFile] = []
        seen: set[str] = set()

        def add(path: Path, line: int, text: str) -> None:
            """A snippet, unless the prompt's window shows its lines or it came already."""
            rel = self.relative(path)
            if rel == current and skip_lines[0] <= line <= skip_lines[1]:
                return
            if text and text not in seen:
                seen.add(text)
                found.append(ContextFile(rel, text))

        try:
            for name in identifiers_near(above[-8:]):
                for symbol in list(index.definitions(name))[:2]:
                    add(symbol.path, symbol.start_line, symbol.signature.strip())
            query = "\n".join(line for line in above[-3:] if line.strip())
            if query.strip():
                for hit in list(index.search(query, k=3)):
                    add(hit.path, hit.start_line, "\n".join(hit.text.split("\n")[:24]).rstrip())
        except Exception as exc:  # the index is optional: never fail a completion for it
            log.debug("index context unavailable: %s", exc)
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found


def fit(snippets: Sequence[ContextFile], budget: int, count: Counter) -> list[ContextFile]:
    """As many snippets, in order, as fit in ``budget`` tokens (merging by file)."""
    kept: list[ContextFile] = []
    used = 0
    for item in snippets:
        cost = count(item.text) + count(item.path) + 4
        if used + cost > budget:
            continue
        used += cost
        kept.append(item)
    merged: dict[str, list[str]] = {}
    for item in kept:
        merged.setdefault(item.path, []).append(item.text)
    return [ContextFile(path, "\n\n".join(texts)) for path, texts in merged.items()]
