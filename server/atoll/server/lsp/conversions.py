"""URIs ↔ paths, names shown to the user, and messages to the user."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

INFO = types.MessageType.Info
WARNING = types.MessageType.Warning
ERROR = types.MessageType.Error


def uri_to_path(uri: str) -> Path | None:
    """A ``file://`` URI as a path, or ``None`` for any other scheme."""
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


def workspace_relative(root: Path | None, uri: str) -> str:
    """How a document is named to a model or the user: relative to the workspace when
    it is inside it, else its path (or the URI itself for a non-file document)."""
    path = uri_to_path(uri)
    if path is None:
        return uri
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def show_message(server: LanguageServer, message: str, kind: types.MessageType = INFO) -> None:
    """``window/showMessage`` (on the event loop)."""
    server.window_show_message(types.ShowMessageParams(type=kind, message=message))


def show_message_threadsafe(
    server: LanguageServer,
    loop: asyncio.AbstractEventLoop,
    message: str,
    kind: types.MessageType = INFO,
) -> None:
    """``window/showMessage`` from a worker thread."""
    params = types.ShowMessageParams(type=kind, message=message)
    loop.call_soon_threadsafe(server.window_show_message, params)
