"""Search/replace edits, applied exactly, with a readable error when the search text is absent.

The model sends ``search`` (text copied from the file) and ``replace``. Exactly one
occurrence must match; otherwise the error names the closest region of the file so the
model can copy it correctly on its next turn.
"""

from __future__ import annotations

import difflib

from atoll.agents.errors import ToolError


def apply_edit(text: str, search: str, replace: str, *, path: str = "the file") -> str:
    """Replace the single occurrence of ``search`` in ``text`` with ``replace``.

    An empty ``search`` on an empty file writes ``replace``; several occurrences or none
    are errors the model can act on.
    """
    if search == "":
        if text == "":
            return replace
        raise ToolError(
            f"edit_file on {path}: the search text is empty; copy the lines to replace "
            "from the file (use write_file to replace a whole file)."
        )
    count = text.count(search)
    if count == 1:
        return text.replace(search, replace, 1)
    if count > 1:
        raise ToolError(
            f"edit_file on {path}: the search text occurs {count} times; include more "
            "surrounding lines so that it matches exactly once."
        )
    closest = closest_match(text, search)
    hint = f"\nThe closest lines in {path} are:\n{closest}" if closest else ""
    raise ToolError(
        f"edit_file on {path}: the search text was not found (it must match the file "
        f"exactly, including indentation).{hint}"
    )


def closest_match(text: str, search: str) -> str:
    """The window of ``text`` lines most similar to ``search`` (empty if nothing is close)."""
    lines = text.splitlines(keepends=True)
    size = max(1, len(search.splitlines()))
    if not lines:
        return ""
    best, best_ratio = 0, 0.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(search)
    for start in range(max(1, len(lines) - size + 1)):
        matcher.set_seq1("".join(lines[start : start + size]))
        ratio = matcher.quick_ratio()
        if ratio <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best, best_ratio = start, ratio
    if best_ratio < 0.3:
        return ""
    window = lines[best : best + size]
    return "".join(f"{best + i + 1:>5}| {line}" for i, line in enumerate(window)).rstrip("\n")
