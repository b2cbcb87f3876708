"""``textDocument/inlineCompletion``, and the completion service's lifecycle.

The logic is in :class:`atoll.completion.service.CompletionService` (one per server,
which also sets ``server.llm``); this module converts LSP positions and registers the
handler. The document events that warm the model are :mod:`.warming`.
"""

from __future__ import annotations

import functools
from typing import Any

from lsprotocol import types

from atoll.completion.results import CompletionRequest, CompletionResult
from atoll.completion.service import CompletionService
from atoll.server.app import AtollServer
from atoll.server.documents import DocumentError, cursor_at, cursor_clamped
from atoll.server.lsp.codec import install as install_fast_positions
from atoll.server.lsp.conversions import ERROR, INFO, WARNING, show_message, uri_to_path
from atoll.server.lsp.per_server import PerServer

_LEVELS = {"error": ERROR, "warning": WARNING}


def _service(server: Any) -> CompletionService:
    return CompletionService(
        lambda: server.config,
        root=lambda: server.root,
        index=lambda: _index(server),
        notify=lambda level, message: show_message(server, message, _LEVELS.get(level, INFO)),
        on_model=functools.partial(setattr, server, "llm"),
    )


SERVICES: PerServer[CompletionService] = PerServer(_service)


async def complete_at(
    server: AtollServer,
    uri: str,
    position: types.Position,
    *,
    automatic: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> tuple[CompletionResult | None, types.Position]:
    """Run the engine at an LSP position (clamped to the line's end)."""
    service = SERVICES.get(server)
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


def start(server: AtollServer) -> None:
    """At ``initialized``: load the backend in the background."""
    # Every feature's documents, really; here because huge lines hurt typing most.
    install_fast_positions(server.workspace)
    server.spawn(SERVICES(server).start(), name="completion-backend")


def restart_if_changed(server: AtollServer) -> None:
    """After a configuration change: reload the backend if its settings changed."""
    server.spawn(SERVICES(server).restart_if_changed(), name="completion-restart")


def register(server: AtollServer) -> None:
    service = SERVICES(server)
    server.status_providers["completion"] = service.status
    server.on_initialized.append(functools.partial(start, server))
    server.on_config_changed.append(functools.partial(restart_if_changed, server))
    server.on_shutdown.append(service.stop)
    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
        server.guarded("inline completion", default=None)(inline_completion)
    )


def _index(server: AtollServer) -> Any:
    index = getattr(server, "index", None)
    if index is None or not hasattr(index, "definitions") or not hasattr(index, "search"):
        return None
    return index
