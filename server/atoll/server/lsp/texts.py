"""A file's current text: the editor's open buffer wins over the disk, decoded one way.

Every feature that reads a file (the cursor's document, a definition for hover, the
crew's conflict check) goes through :func:`read_disk` or :class:`OpenTexts`, so they
agree on binary files and on bytes that are not UTF-8.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)
BINARY_SNIFF_BYTES = 8192


class TextError(ValueError):
    """A file that cannot be served as text (missing, unreadable, binary, not UTF-8)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # no file at all (as opposed to one that is not text)


def read_disk(path: Path, *, strict: bool = False) -> str:
    """The file's text as UTF-8. Undecodable bytes are replaced (and logged) unless
    ``strict``, where they are a :class:`TextError` like a binary or unreadable file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError | NotADirectoryError)
        raise TextError(f"cannot read {path}: {exc.strerror or exc}", missing=missing) from None
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise TextError(f"{path} looks like a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if strict:
            raise TextError(f"{path} is not valid UTF-8") from None
    log.info("%s is not valid UTF-8; undecodable bytes were replaced", path)
    return data.decode("utf-8", errors="replace")


class OpenTexts:
    """Reads files as the user sees them: a snapshot of the open buffers, then the disk.

    A snapshot (taken on the event loop) can be handed to a worker thread safely.
    """

    def __init__(self, buffers: Mapping[Path, str], *, strict: bool = False) -> None:
        self.buffers = dict(buffers)
        self.strict = strict

    def text(self, path: Path) -> str:
        """The current text; :class:`TextError` when there is none."""
        if path in self.buffers:
            return self.buffers[path]
        return read_disk(path, strict=self.strict)

    def get(self, path: Path) -> str | None:
        """The current text, or None for a file that is missing or not text."""
        try:
            return self.text(path)
        except TextError:
            return None
