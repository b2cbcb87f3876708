"""``textDocument/inlineCompletion``, and the one local model (``server.llm``).

At ``initialized`` the configured backend is loaded in the background; until it is
ready (or when it cannot start) requests answer empty and the reason is shown once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer

log = logging.getLogger(__name__)


class CompletionFeature:
    """The backend's lifecycle and the status it reports."""

    def __init__(self, server: AtollServer) -> None:
        self.server = server
        self.backend: Any = None  # atoll.completion.factory.LoadedBackend
        self.error = ""
        self.ready = asyncio.Event()
        self._announced: set[str] = set()

    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = {"enabled": self.server.config.completion.enabled}
        if self.backend is not None:
            info.update(self.backend.status())
        info["ready"] = self.backend is not None and self.ready.is_set()
        if self.error:
            info["error"] = self.error
        return info

    def show_once(self, key: str, message: str, kind: types.MessageType) -> None:
        if key in self._announced:
            return
        self._announced.add(key)
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def start(self) -> None:
        from atoll.completion.factory import BackendError, create_backend

        config = self.server.config
        if not config.completion.enabled:
            return
        try:
            backend = await asyncio.to_thread(create_backend, config, on_state=self._on_state)
        except BackendError as exc:
            self.error = str(exc)
            log.error("completion disabled: %s", exc)
            self.show_once("backend", f"atoll: completion is off: {exc}", types.MessageType.Error)
            self.ready.set()
            return
        self.backend = backend
        self.server.llm = backend.model
        log.info(
            "completion: %s backend, model %s, template %s",
            backend.model.backend,
            backend.model.name,
            backend.template.name,
        )
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

    def stop(self) -> None:
        model, self.server.llm = self.server.llm, None
        self.backend = None
        if model is not None:
            model.close()


def register(server: AtollServer) -> None:
    feature = CompletionFeature(server)
    server.status_providers["completion"] = feature.status

    async def on_initialized() -> None:
        server.spawn(feature.start(), name="completion-backend")

    server.on_initialized.append(on_initialized)
    server.on_shutdown.append(feature.stop)
