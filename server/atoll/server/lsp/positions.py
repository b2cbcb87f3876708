"""LSP positions ↔ Python string offsets, in the position encoding the client negotiated.

LSP counts a line's characters in UTF-16 code units unless client and server agreed on
UTF-8 or UTF-32 at ``initialize``; Python indexes code points. Every conversion between
the two goes through here. Lines are split as pygls splits a document
(``str.splitlines``), so our offsets agree with the buffers pygls keeps.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

UTF8 = types.PositionEncodingKind.Utf8
UTF16 = types.PositionEncodingKind.Utf16
UTF32 = types.PositionEncodingKind.Utf32


class PositionError(ValueError):
    """A position that does not exist in the text (the client and server disagree)."""


def encoding_of(server: LanguageServer) -> str:
    """The encoding negotiated at ``initialize`` (UTF-16 when none was)."""
    return server.workspace.position_encoding or UTF16


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the encoding's code units (LSP "characters")."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def index_at(line: str, character: int, encoding: str) -> int | None:
    """The Python index on ``line`` of an LSP character, or None when it is past the end
    or inside one code point (half a surrogate pair, a byte inside a UTF-8 sequence)."""
    if character < 0:
        return None
    if encoding == UTF32 or line.isascii():
        return character if character <= len(line) else None
    # Encode once (C speed) instead of counting character by character: a minified
    # file is one line of megabytes.
    codec, size = ("utf-8", 1) if encoding == UTF8 else ("utf-16-le", 2)
    data = line.encode(codec, "surrogatepass")
    if character * size > len(data):
        return None
    try:
        head = data[: character * size].decode(codec, "surrogatepass")
    except UnicodeDecodeError:
        return None  # inside a UTF-8 sequence
    if head and head[-1] != line[len(head) - 1]:
        return None  # half of a surrogate pair
    return len(head)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def offset_at(text: str, position: types.Position, encoding: str) -> int:
    """The Python offset in ``text`` of an LSP position; :class:`PositionError` when the
    position is past the end of its line or of the text (never a silent clamp)."""
    lines = _lines(text)
    if position.line < 0 or position.character < 0:
        raise PositionError(f"negative position {position}")
    if position.line > len(lines) or (position.line == len(lines) and position.character > 0):
        raise PositionError(f"line {position.line} is past the end ({len(lines)} lines)")
    body = lines[position.line].rstrip("\r\n") if position.line < len(lines) else ""
    column = index_at(body, position.character, encoding)
    if column is None:
        raise PositionError(
            f"character {position.character} is past the end of line {position.line}"
        )
    return sum(len(line) for line in lines[: position.line]) + column


def line_end(text: str, line: int, encoding: str) -> types.Position | None:
    """The position at the end of ``line`` (before its newline); None past the last line."""
    lines = _lines(text)
    if not 0 <= line < len(lines):
        return None
    return types.Position(line, units(lines[line].rstrip("\r\n"), encoding))


def position_at(text: str, offset: int, encoding: str) -> types.Position:
    """The LSP position of a Python offset in ``text`` (clamped into the text; an offset
    inside a line break is the end of that line)."""
    offset = max(0, min(offset, len(text)))
    lines = _lines(text)
    start = 0
    for number, line in enumerate(lines):
        if offset < start + len(line):
            body = line.rstrip("\r\n")
            return types.Position(number, units(body[: offset - start], encoding))
        start += len(line)
    if lines and not lines[-1].endswith(("\n", "\r")):
        return types.Position(len(lines) - 1, units(lines[-1], encoding))
    return types.Position(len(lines), 0)


def range_at(text: str, start: int, end: int, encoding: str) -> types.Range:
    """The LSP range between two Python offsets in ``text``."""
    return types.Range(position_at(text, start, encoding), position_at(text, end, encoding))
