"""The buffer, not the disk, is the truth for open files.

A document's current text and a cursor in it, for features; the reading and the
position maths are :mod:`atoll.server.lsp.texts` and :mod:`atoll.server.lsp.positions`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.workspace import TextDocument

from atoll.server.app import AtollServer
from atoll.server.lsp import positions
from atoll.server.lsp.conversions import uri_to_path
from atoll.server.lsp.texts import OpenTexts, TextError, read_disk

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
        return read_disk(path)
    except TextError as exc:
        raise DocumentError(str(exc)) from None


def open_buffers(server: AtollServer) -> dict[Path, str]:
    """Every open file buffer's unsaved text, by path."""
    out: dict[Path, str] = {}
    for uri, doc in server.workspace.text_documents.items():
        path = uri_to_path(uri)
        if path is not None:
            out[path] = doc.source
    return out


def open_texts(server: AtollServer, *, strict: bool = False) -> OpenTexts:
    """A reader of files as the user sees them (safe to hand to a worker thread)."""
    return OpenTexts(open_buffers(server), strict=strict)


def cursor_at(server: AtollServer, uri: str, position: types.Position) -> Cursor:
    """Split a document at an LSP position, honouring the negotiated position encoding.

    A position past the end of a line or of the document is an error, not a clamp:
    the client and server disagree about the text and any answer would be wrong.
    """
    text = document_text(server, uri)
    doc = open_document(server, uri)
    version = doc.version if doc is not None else None
    try:
        offset = positions.offset_at(text, position, positions.encoding_of(server))
    except positions.PositionError as exc:
        raise DocumentError(f"{exc} in {uri}") from None
    return Cursor(uri, uri_to_path(uri), text, offset, position.line, version)


def cursor_clamped(
    server: AtollServer, uri: str, position: types.Position
) -> tuple[str, int, types.Position] | None:
    """Text, offset and position of a cursor, a character past the line's end clamped
    to it; None when there is nothing there (unreadable document, line past the end)."""
    try:
        text = document_text(server, uri)
    except DocumentError as exc:
        log.info("no completion for %s: %s", uri, exc)
        return None
    encoding = positions.encoding_of(server)
    try:
        return text, positions.offset_at(text, position, encoding), position
    except positions.PositionError:
        pass
    end = positions.line_end(text, position.line, encoding)
    if end is None:
        return None  # past the end: an empty answer, not a guess
    try:
        return text, positions.offset_at(text, end, encoding), end
    except positions.PositionError:
        return None
