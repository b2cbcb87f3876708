"""Text edits and the pieces of a ``WorkspaceEdit``.

Edits here replace whole lines, so they do not depend on the negotiated position
encoding (except at the end of a last line without a newline, measured by ``units``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from lsprotocol import types

from atoll.server.lsp.positions import UTF16, units

DocumentChange = types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile


def utf16_units(text: str) -> int:
    return units(text, UTF16)


def line_edits(
    old: str, new: str, measure: Callable[[str], int] = utf16_units
) -> list[types.TextEdit]:
    """Whole-line replacements turning ``old`` into ``new`` (``measure`` gives a line's
    length in the negotiated position encoding)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if a and a[-1].endswith(("\n", "\r")):
        end_of_text = types.Position(len(a), 0)
    elif a:
        end_of_text = types.Position(len(a) - 1, measure(a[-1]))
    else:
        end_of_text = types.Position(0, 0)
    edits = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = types.Position(i1, 0) if i1 < len(a) else end_of_text
        end = types.Position(i2, 0) if i2 < len(a) else end_of_text
        edits.append(types.TextEdit(types.Range(start, end), "".join(b[j1:j2])))
    return edits


def apply_line_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply edits made by :func:`line_edits` (for tests and for clients without edits)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        return offsets[pos.line] + pos.character

    out = text
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        out = out[: offset(edit.range.start)] + edit.new_text + out[offset(edit.range.end) :]
    return out


def modify_file(uri: str, version: int | None, edits: list[types.TextEdit]) -> DocumentChange:
    """Edits to one document; with ``version`` the client refuses them if it changed."""
    return types.TextDocumentEdit(
        types.OptionalVersionedTextDocumentIdentifier(uri, version), edits
    )


def create_file(uri: str, text: str) -> list[DocumentChange]:
    """A new file holding ``text``; never overwrites one that appeared meanwhile."""
    start = types.Position(0, 0)
    return [
        types.CreateFile(
            uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
        ),
        modify_file(uri, None, [types.TextEdit(types.Range(start, start), text)]),
    ]


def rename_file(old_uri: str, new_uri: str) -> DocumentChange:
    return types.RenameFile(old_uri, new_uri, options=types.RenameFileOptions(overwrite=False))


def delete_file(uri: str) -> DocumentChange:
    return types.DeleteFile(uri)
