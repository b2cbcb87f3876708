"""The buffer, not the disk, is the truth for open files.

Helpers that give features a document's current text and safe position maths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.workspace import TextDocument

from atoll.server.app import AtollServer, uri_to_path

log = logging.getLogger(__name__)


class DocumentError(ValueError):
    """A request names a document or position that cannot be served."""


@dataclass(frozen=True)
class Cursor:
    """A document's text split at a position (offsets in Python characters)."""

    uri: str
    path: Path | None
    text: str
    offset: int
    line: int
    version: int | None

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]


def open_document(server: AtollServer, uri: str) -> TextDocument | None:
    """The open buffer for ``uri``, or ``None`` when the editor has not opened it."""
    doc: TextDocument | None = server.workspace.text_documents.get(uri)
    return doc


def document_text(server: AtollServer, uri: str) -> str:
    """The open buffer's unsaved text, else the file on disk (decoded with replacement)."""
    doc = open_document(server, uri)
    if doc is not None:
        return doc.source
    path = uri_to_path(uri)
    if path is None:
        raise DocumentError(f"not a file URI: {uri}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{path} looks like a binary file")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        log.info("%s is not valid UTF-8; undecodable bytes were replaced", path)
    return text


def open_buffers(server: AtollServer) -> dict[Path, str]:
    """Every open file buffer's unsaved text, by path."""
    out: dict[Path, str] = {}
    for uri, doc in server.workspace.text_documents.items():
        path = uri_to_path(uri)
        if path is not None:
            out[path] = doc.source
    return out


def cursor_at(server: AtollServer, uri: str, position: types.Position) -> Cursor:
    """Split a document at an LSP position, honouring the negotiated position encoding.

    A position past the end of a line or of the document is an error, not a clamp:
    the client and server disagree about the text and any answer would be wrong.
    """
    text = document_text(server, uri)
    doc = open_document(server, uri)
    version = doc.version if doc is not None else None
    lines = text.splitlines(keepends=True)
    if position.line < 0 or position.character < 0:
        raise DocumentError(f"negative position {position}")
    if position.line > len(lines) or (position.line == len(lines) and position.character > 0):
        raise DocumentError(f"line {position.line} is past the end of {uri} ({len(lines)} lines)")
    line_text = lines[position.line] if position.line < len(lines) else ""
    body = line_text.rstrip("\r\n")
    encoding = server.workspace.position_encoding
    column = _column_to_index(body, position.character, encoding)
    if column is None:
        raise DocumentError(
            f"character {position.character} is past the end of line {position.line} in {uri}"
        )
    offset = sum(len(line) for line in lines[: position.line]) + column
    return Cursor(uri, uri_to_path(uri), text, offset, position.line, version)


def cursor_clamped(
    server: AtollServer, uri: str, position: types.Position
) -> tuple[str, int, types.Position] | None:
    """Text, offset and position of a cursor, a character past the line's end clamped
    to it; None when there is nothing there (unreadable document, line past the end)."""
    try:
        cursor = cursor_at(server, uri, position)
        return cursor.text, cursor.offset, position
    except DocumentError:
        pass
    try:
        text = document_text(server, uri)
    except DocumentError as exc:
        log.info("no completion for %s: %s", uri, exc)
        return None
    lines = text.splitlines(keepends=True)
    if position.line >= len(lines):
        return None  # past the end: an empty answer, not a guess
    body = lines[position.line].rstrip("\r\n")
    # A character past the line's end: clamp to the end of the line.
    end = types.Position(position.line, _units(server.workspace.position_encoding, body))
    try:
        cursor = cursor_at(server, uri, end)
    except DocumentError:
        return None
    return cursor.text, cursor.offset, end


def _units(encoding: object, line: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32:
        return len(line)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(line.encode("utf-8"))
    return len(line.encode("utf-16-le")) // 2


def _column_to_index(line: str, character: int, encoding: object) -> int | None:
    """Convert an LSP character offset to a Python string index, or None if out of range.

    Linear in the line's length but in C (encode/decode), never a Python loop over
    characters: a minified file is one line of megabytes.
    """
    if encoding == types.PositionEncodingKind.Utf32 or line.isascii():
        return character if character <= len(line) else None
    codec, unit = ("utf-8", 1) if encoding == types.PositionEncodingKind.Utf8 else ("utf-16-le", 2)
    data = line.encode(codec, "surrogatepass")
    if character * unit > len(data):
        return None
    try:
        head = data[: character * unit].decode(codec, "surrogatepass")
    except UnicodeDecodeError:
        return None  # inside a character: not a position the client may send
    if head and head[-1] != line[len(head) - 1]:
        return None  # half of a surrogate pair
    return len(head)
