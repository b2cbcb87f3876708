"""The document events that warm the completion model ahead of a request.

On open (the file's first window), after an edit once the user pauses and on
``atoll/warm`` (``{"textDocument": {"uri"}, "position"}``), a notification a client may
send when a file gets focus or the cursor jumps. The service is the one
:mod:`.inline_completion` keeps; without one (no server set-up yet) these do nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.documents import DocumentError, cursor_at, cursor_clamped
from atoll.server.features.inline_completion import SERVICES
from atoll.server.lsp.conversions import uri_to_path

log = logging.getLogger(__name__)
WARM_NOTIFICATION = "atoll/warm"


def did_open(ls: AtollServer, params: types.DidOpenTextDocumentParams) -> None:
    service = SERVICES.get(ls)
    doc = params.text_document
    if service is not None:
        service.opened(doc.uri, uri_to_path(doc.uri), doc.text)


def did_change(ls: AtollServer, params: types.DidChangeTextDocumentParams) -> None:
    """Where the last change ends is where the cursor is (pygls has applied it)."""
    service = SERVICES.get(ls)
    uri = params.text_document.uri
    if service is None or not params.content_changes:
        return
    change = params.content_changes[-1]
    if not isinstance(change, types.TextDocumentContentChangePartial):
        return  # the whole text: no cursor to go by
    try:
        cursor = cursor_at(ls, uri, change.range.start)
    except DocumentError:
        return
    service.edited(uri, cursor.path, cursor.text, cursor.offset + len(change.text))


def did_close(ls: AtollServer, params: types.DidCloseTextDocumentParams) -> None:
    service = SERVICES.get(ls)
    if service is not None:
        service.closed(params.text_document.uri)


def warm(ls: AtollServer, params: Any) -> None:
    """``atoll/warm``: evaluate the prompt at the client's cursor ahead of a request."""
    service = SERVICES.get(ls)
    try:
        uri = str(_field(_field(params, "textDocument"), "uri"))
        at = _field(params, "position")
        position = types.Position(int(_field(at, "line")), int(_field(at, "character")))
    except (KeyError, AttributeError, TypeError, ValueError):
        log.info("atoll/warm needs textDocument.uri and position")
        return
    located = cursor_clamped(ls, uri, position) if service is not None else None
    if service is not None and located is not None:
        service.warm_at(uri, uri_to_path(uri), located[0], located[1])


def register(server: AtollServer) -> None:
    for name, handler in (
        (types.TEXT_DOCUMENT_DID_OPEN, did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, did_change),
        (types.TEXT_DOCUMENT_DID_CLOSE, did_close),
        (WARM_NOTIFICATION, warm),
    ):
        server.feature(name)(server.guarded(name, default=None)(handler))


def _field(value: Any, name: str) -> Any:
    """A field of a custom notification's params (a mapping or an object)."""
    return value[name] if isinstance(value, dict) else getattr(value, name)
