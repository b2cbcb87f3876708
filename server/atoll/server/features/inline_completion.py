"""``textDocument/inlineCompletion``, and the one local model (``server.llm``).

At ``initialized`` the configured backend loads in the background (and warms up);
until it is ready, or when it cannot start, requests answer empty and the reason
is shown once. Hover, symbols and everything else never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from atoll.server.app import AtollServer, uri_to_path
from atoll.server.documents import DocumentError, cursor_at, document_text

if TYPE_CHECKING:
    from atoll.completion.engine import CompletionEngine, CompletionResult
    from atoll.completion.factory import LoadedBackend

log = logging.getLogger(__name__)
_FEATURES: weakref.WeakKeyDictionary[AtollServer, CompletionFeature] = weakref.WeakKeyDictionary()


def completion_feature(server: AtollServer) -> CompletionFeature | None:
    """The server's completion feature (for the ``textDocument/completion`` fallback)."""
    return _FEATURES.get(server)


class CompletionFeature:
    """The backend's lifecycle, the engine, and the status it reports."""

    def __init__(self, server: AtollServer) -> None:
        self.server = server
        self.backend: LoadedBackend | None = None
        self.engine: CompletionEngine | None = None
        self.error = ""
        self.ready = asyncio.Event()
        self._announced: set[str] = set()
        self._loaded_for: tuple[Any, ...] | None = None
        self.last: dict[str, Any] = {}  # the latest request's source, tokens and timings

    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = {"enabled": self.server.config.completion.enabled}
        if self.backend is not None:
            info.update(self.backend.status())
        info["ready"] = self.engine is not None and self.ready.is_set()
        if self.engine is not None:
            info["stats"] = self.engine.stats.as_dict()
            info["server_up"] = bool(getattr(self.engine.model, "up", True))
            worker = getattr(self.engine.model, "worker", None)
            info["busy"] = bool(worker is not None and worker.busy.is_set())
            info["history"] = list(self.engine.history)
            if worker is not None:
                info["busy_after_cancel_ms"] = list(worker.busy_after_cancel_ms)[-32:]
        if self.last:
            info["last"] = self.last
        if self.error:
            info["error"] = self.error
        return info

    def show_once(self, key: str, message: str, kind: types.MessageType) -> None:
        if key in self._announced:
            return
        self._announced.add(key)
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def _index(self) -> Any:
        index = getattr(self.server, "index", None)
        if index is None or not hasattr(index, "definitions") or not hasattr(index, "search"):
            return None
        return index

    async def start(self) -> None:
        from atoll.completion.engine import CompletionEngine
        from atoll.completion.factory import BackendError, create_backend

        config = self.server.config
        self._loaded_for = _backend_settings(config)
        self.ready.clear()
        if not config.completion.enabled:
            self.ready.set()
            return
        try:
            backend = await asyncio.to_thread(create_backend, config, on_state=self._on_state)
        except BackendError as exc:
            self.error = str(exc)
            log.error("completion is off: %s", exc)
            self.show_once("backend", f"atoll: completion is off: {exc}", types.MessageType.Error)
            self.ready.set()
            return
        self.error = ""
        self.backend = backend
        self.server.llm = backend.model
        self.engine = CompletionEngine(
            backend.model,
            backend.template,
            config.completion,
            root=self.server.root,
            index=self._index,
        )
        log.info(
            "completion: %s backend, model %s, template %s",
            backend.model.backend,
            backend.model.name,
            backend.template.name,
        )
        if config.completion.warmup:
            await self.engine.warmup()
        self.ready.set()

    def _on_state(self, up: bool, detail: str) -> None:
        loop = self.server.event_loop
        if loop is None:
            return
        message = (
            "atoll: the completion server is back."
            if up
            else f"atoll: the completion server is unavailable ({detail}); completions are "
            "empty until it returns."
        )
        kind = types.MessageType.Info if up else types.MessageType.Warning
        params = types.ShowMessageParams(type=kind, message=message)
        loop.call_soon_threadsafe(self.server.window_show_message, params)

    async def restart_if_changed(self) -> None:
        """Reload the model only when its settings changed; else just renew the engine."""
        config = self.server.config
        if _backend_settings(config) != self._loaded_for:
            log.info("model settings changed; restarting the completion backend")
            await self.stop()
            await self.start()
            return
        engine = self.engine
        if engine is not None and engine.config != config.completion:
            from atoll.completion.engine import CompletionEngine

            self.engine = CompletionEngine(
                engine.model,
                engine.template,
                config.completion,
                root=self.server.root,
                index=self._index,
            )

    async def stop(self) -> None:
        model, self.server.llm = self.server.llm, None
        self.backend = None
        self.engine = None
        if model is not None:
            # Waits for the running decode to stop at its next token: off the event loop,
            # which must keep delivering that decode's result meanwhile.
            await asyncio.to_thread(model.close)

    async def complete_at(
        self,
        uri: str,
        position: types.Position,
        *,
        automatic: bool,
        selected: types.SelectedCompletionInfo | None = None,
    ) -> tuple[CompletionResult | None, types.Position]:
        """Run the engine at an LSP position (clamped to the line's end)."""
        from atoll.completion.engine import CompletionRequest

        if not self.ready.is_set():
            # The first request after start waits for the model (briefly), later ones don't.
            try:
                await asyncio.wait_for(self.ready.wait(), 10.0)
            except TimeoutError:
                return None, position
        engine = self.engine
        if engine is None:
            return None, position
        located = locate(self.server, uri, position)
        if located is None:
            return None, position
        text, offset, position = located
        start: int | None = None
        if selected is not None and selected.text:
            try:
                start = cursor_at(self.server, uri, selected.range.start).offset
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
        result = await engine.complete(request)
        self.last = {
            k: v
            for k, v in result.as_dict().items()
            if k in ("source", "prompt_tokens", "cached_tokens", "decode_tokens", "timings_ms")
        }
        log.debug(
            "completion %s: %s, %.1f ms", result.source, result.finish, result.timings_ms["total"]
        )
        return result, position


def _backend_settings(config: Any) -> tuple[Any, ...]:
    """What loading the backend depends on (other completion settings apply live)."""
    c = config.completion
    return (c.enabled, c.backend, c.endpoint, c.fim_template, c.backoff_max_s, c.time_budget_ms,
            config.models)  # fmt: skip


def locate(
    server: AtollServer, uri: str, position: types.Position
) -> tuple[str, int, types.Position] | None:
    """Text, offset and (clamped) position of a cursor; None when there is nothing to
    complete (unreadable document, line past the end)."""
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
    end = types.Position(position.line, _units(server, body))
    try:
        cursor = cursor_at(server, uri, end)
    except DocumentError:
        return None
    return cursor.text, cursor.offset, end


def _units(server: AtollServer, line: str) -> int:
    encoding = server.workspace.position_encoding
    if encoding == types.PositionEncodingKind.Utf32:
        return len(line)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(line.encode("utf-8"))
    return len(line.encode("utf-16-le")) // 2


def register(server: AtollServer) -> None:
    feature = CompletionFeature(server)
    _FEATURES[server] = feature
    server.status_providers["completion"] = feature.status

    async def on_initialized() -> None:
        server.spawn(feature.start(), name="completion-backend")

    async def on_config_changed() -> None:
        server.spawn(feature.restart_if_changed(), name="completion-restart")

    server.on_initialized.append(on_initialized)
    server.on_config_changed.append(on_config_changed)
    server.on_shutdown.append(feature.stop)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    @server.guarded("inline completion", default=None)
    async def inline_completion(
        ls: AtollServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        selected = params.context.selected_completion_info
        result, position = await feature.complete_at(
            params.text_document.uri, params.position, automatic=automatic, selected=selected
        )
        if result is None or not result.insert_text:
            return types.InlineCompletionList(items=[])
        start = selected.range.start if selected is not None and selected.text else position
        item = types.InlineCompletionItem(
            insert_text=result.insert_text, range=types.Range(start, position)
        )
        return types.InlineCompletionList(items=[item])
