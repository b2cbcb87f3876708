"""Turn a model's raw continuation into a suggestion worth showing.

Pure functions of text: decide single- vs multi-line from the cursor, cut what
repeats the suffix, keep brackets balanced and indentation inside the block, and
drop empty or degenerate output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}
# A line ending with one of these opens a block: the suggestion may span lines.
BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", "do", "then")
MAX_LINES = 12


@dataclass(frozen=True)
class CursorContext:
    """The text around the cursor that post-processing looks at."""

    line_prefix: str  # current line up to the cursor
    line_suffix: str  # rest of the current line
    previous_line: str = ""  # nearest non-blank line above
    next_lines: tuple[str, ...] = ()  # a few lines after the current one

    @classmethod
    def from_text(cls, prefix: str, suffix: str) -> CursorContext:
        before, _, line_prefix = prefix.rpartition("\n")
        line_suffix, _, after = suffix.partition("\n")
        previous = next((ln for ln in reversed(before.splitlines()[-20:]) if ln.strip()), "")
        following = tuple(after.splitlines()[:8])
        return cls(line_prefix, line_suffix, previous, following)

    @property
    def indent(self) -> str:
        """The indentation of the code the cursor is in."""
        line = self.line_prefix
        return line[: len(line) - len(line.lstrip())]


def wants_multiline(ctx: CursorContext, mode: str = "auto") -> bool:
    """Several lines on an empty line or right after a block opener; else one."""
    if mode in ("always", "never"):
        return mode == "always"
    if ctx.line_suffix.strip():
        return False  # completing inside a line
    if not ctx.line_prefix.strip():
        return True
    stripped = ctx.line_prefix.rstrip()
    return stripped.endswith(BLOCK_OPENERS)


def clean(raw: str, ctx: CursorContext, *, multiline: bool) -> str:
    """The suggestion to show for ``raw`` at ``ctx`` ('' when it is not worth showing)."""
    text = raw.replace("\r\n", "\n")
    text = _block(text, ctx) if multiline else _first_line(text, ctx)
    text = _cut_suffix_overlap(text, ctx)
    text = _balance(text, ctx)
    text = text.rstrip()
    if not text.strip() or is_repetitive(text, ctx):
        return ""
    return text


def _first_line(text: str, ctx: CursorContext) -> str:
    if not ctx.line_prefix.strip() and text.startswith("\n"):
        # On an empty line the model may start with a newline; skip one blank line.
        text = text.lstrip("\n")
    return text.split("\n", 1)[0]


def _block(text: str, ctx: CursorContext) -> str:
    """Keep lines while they stay inside the cursor's block (by indentation)."""
    lines = text.split("\n")
    base = len(ctx.indent)
    opened = bool(ctx.line_prefix.strip()) and ctx.line_prefix.rstrip().endswith(BLOCK_OPENERS)
    kept = [lines[0]]
    for line in lines[1:MAX_LINES]:
        if line.strip():
            width = len(line) - len(line.lstrip())
            # Dedenting out of the block ends the suggestion: the rest is other code.
            # After an opener, a line back at the opener's level ends it too, except
            # the bracket that closes the block.
            if width < base or (opened and width == base):
                if opened and width == base and line.strip()[:1] in CLOSERS:
                    kept.append(line)
                break
        kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


def block_ended(text: str, ctx: CursorContext) -> bool:
    """Whether a multi-line suggestion is already over: a complete line has left the
    cursor's block (or there are more lines than are ever shown). Lets decoding stop."""
    if "\n" not in text:
        return False
    complete = text[: text.rfind("\n")]
    lines = complete.split("\n")
    if len(lines) >= MAX_LINES:
        return True
    kept = _block(complete, ctx).count("\n") + 1
    return any(line.strip() for line in lines[kept:])


def _cut_suffix_overlap(text: str, ctx: CursorContext) -> str:
    """Drop the part of ``text`` that the suffix already has."""
    rest = ctx.line_suffix.strip()
    if rest:
        first, sep, tail = text.partition("\n")
        stripped = first.rstrip()
        if stripped.endswith(rest):
            # What follows was written after the rest of the line: it has no place
            # before it, where the suggestion goes.
            return stripped[: len(stripped) - len(rest)]
        text = first + sep + tail
    following = [ln.strip() for ln in ctx.next_lines if ln.strip()]
    if following and "\n" in text:
        lines = text.split("\n")
        for i in range(1, len(lines)):
            if lines[i].strip() and lines[i].strip() == following[0]:
                return "\n".join(lines[:i])
    return text


def _balance(text: str, ctx: CursorContext) -> str:
    """Stop before a closer that nothing left open: brackets opened earlier on the line
    and not closed by the rest of the line, or opened in the suggestion itself."""
    stack = _scan(ctx.line_prefix, [])
    # Closers after the cursor already close what the line opened.
    for ch in ctx.line_suffix:
        if ch in CLOSERS and stack and stack[-1] == CLOSERS[ch]:
            stack.pop()
    cut = _scan(text, stack, stop_on_stray=True)
    return text[: cut[0]] if cut and isinstance(cut[0], int) else text


def _scan(text: str, stack: list[str], *, stop_on_stray: bool = False) -> list[Any]:
    """Track open brackets outside strings; with ``stop_on_stray`` return ``[index]`` of
    the first closer with nothing to close (or ``[]``)."""
    stack = list(stack)
    in_string: str | None = None
    for i, ch in enumerate(text):
        if in_string:
            if ch == in_string and (i == 0 or text[i - 1] != "\\"):
                in_string = None
            continue
        if ch in "\"'`":
            in_string = ch
        elif ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS:
            if stack and stack[-1] == CLOSERS[ch]:
                stack.pop()
            elif stop_on_stray:
                return [i]
    return [] if stop_on_stray else stack


_RUN = re.compile(r"(.{1,6}?)\1{5,}", re.S)


def is_repetitive(text: str, ctx: CursorContext | None = None) -> bool:
    """Degenerate output: a short pattern over and over, the same line thrice, or a
    copy of the line above."""
    body = text.strip()
    match = _RUN.search(body)
    if match and len(match.group(0)) >= 0.6 * len(body):
        return True
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) >= 3 and len(set(lines)) == 1:
        return True
    if ctx is not None and len(lines) == 1 and not ctx.line_prefix.strip():
        previous = ctx.previous_line.strip()
        if previous and lines[0] == previous and len(previous) > 3:
            return True
    return False
