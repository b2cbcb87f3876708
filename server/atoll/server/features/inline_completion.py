"""``textDocument/inlineCompletion``, and the document events that warm the model.

The logic is in :class:`atoll.completion.service.CompletionService` (one per server,
which also sets ``server.llm``); this module converts LSP positions and registers the
handlers. ``atoll/warm`` (``{"textDocument": {"uri"}, "position"}``) is a notification
a client may send when a file gets focus or the cursor jumps.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from atoll.completion.results import CompletionRequest, CompletionResult
from atoll.completion.service import CompletionService
from atoll.server.app import AtollServer, uri_to_path
from atoll.server.documents import DocumentError, cursor_at, cursor_clamped
from atoll.server.lsp.codec import install as install_fast_positions
from atoll.server.lsp.per_server import PerServer

log = logging.getLogger(__name__)
WARM_NOTIFICATION = "atoll/warm"
_LEVELS = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}


def _service(server: Any) -> CompletionService:
    def notify(level: str, message: str) -> None:
        kind = _LEVELS.get(level, types.MessageType.Info)
        server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def on_model(model: Any) -> None:
        server.llm = model

    return CompletionService(
        lambda: server.config,
        root=lambda: server.root,
        index=lambda: _index(server),
        notify=notify,
        on_model=on_model,
    )


_SERVICES: PerServer[CompletionService] = PerServer(_service)


def completion_service(server: AtollServer) -> CompletionService | None:
    """The server's completion service (for the ``textDocument/completion`` fallback)."""
    return _SERVICES.get(server)


async def complete_at(
    server: AtollServer,
    uri: str,
    position: types.Position,
    *,
    automatic: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> tuple[CompletionResult | None, types.Position]:
    """Run the engine at an LSP position (clamped to the line's end)."""
    service = _SERVICES.get(server)
    located = cursor_clamped(server, uri, position) if service is not None else None
    if service is None or located is None:
        return None, position
    text, offset, position = located
    start: int | None = None
    if selected is not None and selected.text:
        try:
            start = cursor_at(server, uri, selected.range.start).offset
        except DocumentError:
            start = offset
    request = CompletionRequest(
        uri=uri,
        text=text,
        offset=offset,
        path=uri_to_path(uri),
        automatic=automatic,
        selected_text=selected.text if selected is not None else "",
        selected_start=start,
    )
    return await service.complete(request), position


async def inline_completion(
    ls: AtollServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    selected = params.context.selected_completion_info
    result, position = await complete_at(
        ls, params.text_document.uri, params.position, automatic=automatic, selected=selected
    )
    if result is None or not result.insert_text:
        return types.InlineCompletionList(items=[])
    start = selected.range.start if selected is not None and selected.text else position
    item = types.InlineCompletionItem(
        insert_text=result.insert_text, range=types.Range(start, position)
    )
    return types.InlineCompletionList(items=[item])


def did_open(ls: AtollServer, params: types.DidOpenTextDocumentParams) -> None:
    service = _SERVICES.get(ls)
    doc = params.text_document
    if service is not None:
        service.opened(doc.uri, uri_to_path(doc.uri), doc.text)


def did_change(ls: AtollServer, params: types.DidChangeTextDocumentParams) -> None:
    """Where the last change ends is where the cursor is (pygls has applied it)."""
    service = _SERVICES.get(ls)
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
    service = _SERVICES.get(ls)
    if service is not None:
        service.closed(params.text_document.uri)


def warm(ls: AtollServer, params: Any) -> None:
    """``atoll/warm``: evaluate the prompt at the client's cursor ahead of a request."""
    service = _SERVICES.get(ls)
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
    service = _SERVICES(server)
    server.status_providers["completion"] = service.status

    async def on_initialized() -> None:
        # Every feature's documents, really; here because huge lines hurt typing most.
        install_fast_positions(server.workspace)
        server.spawn(service.start(), name="completion-backend")

    async def on_config_changed() -> None:
        server.spawn(service.restart_if_changed(), name="completion-restart")

    server.on_initialized.append(on_initialized)
    server.on_config_changed.append(on_config_changed)
    server.on_shutdown.append(service.stop)
    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
        server.guarded("inline completion", default=None)(inline_completion)
    )
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


def _index(server: AtollServer) -> Any:
    index = getattr(server, "index", None)
    if index is None or not hasattr(index, "definitions") or not hasattr(index, "search"):
        return None
    return index
