"""The part of a document a prompt carries: cut by characters, then by tokens.

Every input is bounded before anything is tokenized (:func:`cut`): a 20 MB minified
line costs the same as a normal file. The prefix window then starts on a grid of
absolute line numbers and moves only when the token budget forces it past a grid line,
and :func:`blocks` splits it at those grid lines. Each block is tokenized on its own,
so a block's tokens depend on its text only: when lines are deleted above the cursor or
the window's first block drops off, the blocks after it keep their tokens, and the
backend moves their KV entries instead of evaluating them again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

Counter = Callable[[str], int]
GRID_LINES = 16  # the prefix window starts on (and is tokenized in blocks of) this many lines
# An upper bound on characters per token for cutting text before tokenizing it (code
# averages three to four; long identifiers and whitespace runs take more).
CHARS_PER_TOKEN = 8
MEMO_LINE_CHARS = 512  # lines longer than this are counted, never memoised


@dataclass(frozen=True)
class Cut:
    """The text around a cursor, at most a few thousand characters on each side."""

    prefix: str  # ends at the cursor; starts at a line start unless a line is longer
    suffix: str
    first_line: int  # the absolute line number of the prefix's first line


def cut(text: str, offset: int, prefix_chars: int, suffix_chars: int) -> Cut:
    """At most ``prefix_chars`` before ``offset`` (from a line start where one is in
    reach) and ``suffix_chars`` after it."""
    start = max(0, offset - prefix_chars)
    if start > 0 and text[start - 1] != "\n":
        newline = text.find("\n", start, offset)
        if newline >= 0:
            start = newline + 1
    return Cut(text[start:offset], text[offset : offset + suffix_chars], text.count("\n", 0, start))


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
        if len(text) <= MEMO_LINE_CHARS:
            self._memo[text] = n
            if len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return n


def prefix_window(
    prefix: str, budget: int, count: Counter, grid: int = GRID_LINES, first_line: int = 0
) -> tuple[str, int]:
    """The end of ``prefix`` within ``budget`` tokens, and its absolute first line.

    It starts on a grid line (``first_line`` is the absolute number of ``prefix``'s
    first line) and moves only when the window must shrink past one, so consecutive
    prompts share their beginning. The cursor line is kept, cut from its start when
    it alone is over the budget.
    """
    lines = prefix.split("\n")
    while len(lines[-1]) > 16 and count(lines[-1]) > budget:
        lines[-1] = lines[-1][len(lines[-1]) // 4 :]
    total = count(lines[-1])
    first = len(lines) - 1
    for i in range(len(lines) - 2, -1, -1):
        cost = count(lines[i]) + 1  # the newline
        if total + cost > budget:
            break
        total += cost
        first = i
    absolute = first_line + first
    start = -(-absolute // grid) * grid - first_line  # the first grid line at or after
    if start > len(lines) - 1:
        start = first
    return "\n".join(lines[start:]), first_line + start


def suffix_window(suffix: str, budget: int, count: Counter) -> str:
    """The beginning of ``suffix`` within ``budget`` tokens, in whole lines."""
    lines = suffix.split("\n")
    first = lines[0]
    while len(first) > 16 and count(first) > budget:
        first = first[: len(first) * 3 // 4]
    kept = [first]
    total = count(first)
    for line in lines[1:]:
        cost = count(line) + 1
        if total + cost > budget:
            break
        total += cost
        kept.append(line)
    return "\n".join(kept)


def blocks(window: str, start_line: int, grid: int = GRID_LINES) -> list[str]:
    """``window`` (starting at absolute line ``start_line``) split after each line
    that ends a grid block; the pieces join back to ``window``."""
    out: list[str] = []
    lines = window.split("\n")
    current: list[str] = []
    for i, line in enumerate(lines):
        current.append(line)
        last = i == len(lines) - 1
        if last or (start_line + i + 1) % grid == 0:
            out.append("\n".join(current) + ("" if last else "\n"))
            current = []
    return out
