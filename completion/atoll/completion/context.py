"""What goes into a prompt besides the cursor: token-cut windows and index snippets.

Windows are cut by tokens, on line boundaries, and the prefix window starts on a
fixed grid of lines, so while the user types, the prompt's beginning stays the same
and llama.cpp reuses its KV cache. Snippets are chosen from the lines *above* the
cursor line only, for the same reason: typing within a line never changes them.
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
GRID_LINES = 16  # the prefix window starts on a multiple of this many lines
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


class TokenCounter:
    """Counts tokens per line with a small memo (lines repeat across keystrokes)."""

    def __init__(self, count: Counter, size: int = 4096) -> None:
        self._count = count
        self._memo: OrderedDict[str, int] = OrderedDict()
        self._size = size

    def __call__(self, text: str) -> int:
        found = self._memo.get(text)
        if found is not None:
            return found
        n = self._count(text) if text else 0
        self._memo[text] = n
        if len(self._memo) > self._size:
            self._memo.popitem(last=False)
        return n


def prefix_window(prefix: str, budget: int, count: Counter, grid: int = GRID_LINES) -> str:
    """The end of ``prefix`` within ``budget`` tokens, starting on a grid line.

    The cursor line's text is always kept. The start moves only when the window
    must shrink past a grid boundary, so consecutive prompts share their beginning.
    """
    lines = prefix.split("\n")
    total = count(lines[-1])
    first = len(lines) - 1
    for i in range(len(lines) - 2, -1, -1):
        cost = count(lines[i]) + 1  # the newline
        if total + cost > budget:
            break
        total += cost
        first = i
    start = -(-first // grid) * grid  # the first grid line at or after `first`
    if start > len(lines) - 1:
        start = first
    return "\n".join(lines[start:])


def suffix_window(suffix: str, budget: int, count: Counter) -> str:
    """The beginning of ``suffix`` within ``budget`` tokens, in whole lines."""
    lines = suffix.split("\n")
    kept = [lines[0]]
    total = count(lines[0])
    for line in lines[1:]:
        cost = count(line) + 1
        if total + cost > budget:
            break
        total += cost
        kept.append(line)
    return "\n".join(kept)


@dataclass(frozen=True)
class Edit:
    path: str
    line: int
    text: str


class RecentEdits:
    """A ring of chunks around recent edit positions, as llama.vscode keeps."""

    def __init__(self, size: int = 8, radius: int = 6) -> None:
        self._ring: deque[Edit] = deque(maxlen=max(0, size))
        self.radius = radius

    def record(self, path: str, text: str, line: int) -> None:
        if self._ring.maxlen == 0:
            return
        lines = text.split("\n")
        lo, hi = max(0, line - self.radius), min(len(lines), line + self.radius + 1)
        chunk = "\n".join(lines[lo:hi]).strip("\n")
        # One entry per region: a newer edit near the same line replaces the older.
        for old in list(self._ring):
            if old.path == path and abs(old.line - line) <= self.radius:
                self._ring.remove(old)
        if chunk.strip():
            self._ring.append(Edit(path, line, chunk))

    def snippets(self, exclude: str) -> list[ContextFile]:
        """Most recent first, other files only."""
        return [ContextFile(e.path, e.text) for e in reversed(self._ring) if e.path != exclude]


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

    def cached(self, current: str, above: str) -> list[ContextFile] | None:
        return self._cache.get((current, above))

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
        try:
            for name in identifiers_near(above[-8:]):
                for symbol in list(index.definitions(name))[:2]:
                    rel = self.relative(symbol.path)
                    if rel == current and skip_lines[0] <= symbol.start_line <= skip_lines[1]:
                        continue
                    text = symbol.signature.strip()
                    if text and text not in seen:
                        seen.add(text)
                        found.append(ContextFile(rel, text))
            query = "\n".join(line for line in above[-3:] if line.strip())
            if query.strip():
                for hit in list(index.search(query, k=3)):
                    rel = self.relative(hit.path)
                    if rel == current and skip_lines[0] <= hit.start_line <= skip_lines[1]:
                        continue
                    text = "\n".join(hit.text.split("\n")[:24]).rstrip()
                    if text and text not in seen:
                        seen.add(text)
                        found.append(ContextFile(rel, text))
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
