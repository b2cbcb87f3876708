"""The completion service: the backend's lifecycle, the engine, warming and status.

Everything the editor-facing feature needs, in plain Python: the LSP module converts
positions and registers handlers; this owns what happens. The backend loads in the
background; until it is ready (or when it cannot start) requests answer empty and the
reason is told once. Documents are warmed ahead of requests: on open (the file's first
window), after an edit once the user pauses (``completion.warm_idle_ms``) and when a
client says where the cursor is (``warm_at``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atoll.completion.engine import CompletionEngine
from atoll.completion.factory import BackendError, LoadedBackend, create_backend
from atoll.completion.protocols import CodeIndex
from atoll.completion.results import CompletionRequest, CompletionResult
from atoll.config import AtollConfig
from atoll.models.registry import registry
from atoll.models.types import TextModel

log = logging.getLogger(__name__)
Notify = Callable[[str, str], None]  # (level: "error" | "warning" | "info", message)
READY_WAIT_S = 10.0  # the first request after start waits this long for the model


class CompletionService:
    """One per server: see the module docstring."""

    def __init__(
        self,
        config: Callable[[], AtollConfig],
        *,
        root: Callable[[], Path | None],
        index: Callable[[], CodeIndex | None],
        notify: Notify,
        on_model: Callable[[TextModel | None], None] = lambda model: None,
    ) -> None:
        self._config = config
        self._root = root
        self._index = index
        self._notify = notify
        self._on_model = on_model
        self.backend: LoadedBackend | None = None
        self.engine: CompletionEngine | None = None
        self.error = ""
        self.ready = asyncio.Event()
        self.last: dict[str, Any] = {}  # the latest request's source, tokens and timings
        self._announced: set[str] = set()
        self._loaded_for: tuple[Any, ...] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        config = self._config()
        self._loop = asyncio.get_running_loop()
        self._loaded_for = backend_settings(config)
        self.ready.clear()
        if not config.completion.enabled:
            self.ready.set()
            return
        try:
            backend = await asyncio.to_thread(create_backend, config, on_state=self._on_state)
        except BackendError as exc:
            self.error = str(exc)
            log.error("completion is off: %s", exc)
            self.show_once("backend", "error", f"atoll: completion is off: {exc}")
            self.ready.set()
            return
        self.error = ""
        self.backend = backend
        self._on_model(backend.model)
        self.engine = self._engine(backend.model, backend.template)
        log.info(
            "completion: %s backend, model %s, template %s",
            backend.model.backend,
            backend.model.name,
            backend.template.name,
        )
        if config.completion.warmup:
            await self.engine.warmup()
        self.ready.set()

    def _engine(self, model: TextModel, template: Any) -> CompletionEngine:
        return CompletionEngine(
            model, template, self._config().completion, root=self._root(), index=self._index
        )

    async def restart_if_changed(self) -> None:
        """Reload the model only when its settings changed; else just renew the engine."""
        config = self._config()
        if backend_settings(config) != self._loaded_for:
            log.info("model settings changed; restarting the completion backend")
            await self.stop()
            await self.start()
            return
        engine = self.engine
        if engine is not None and engine.config != config.completion:
            self.engine = self._engine(engine.model, engine.template)

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        model = self.backend.model if self.backend is not None else None
        self.backend = None
        self.engine = None
        self._on_model(None)
        aclose = getattr(model, "aclose", None)
        if aclose is not None:
            await aclose()
        if model is not None:
            # Waits for the running call to stop: off the event loop, which must keep
            # delivering that call's result meanwhile.
            await asyncio.to_thread(model.close)

    # -- messages and status -------------------------------------------------------

    def show_once(self, key: str, level: str, message: str) -> None:
        if key not in self._announced:
            self._announced.add(key)
            self._notify(level, message)

    def _on_state(self, up: bool, detail: str) -> None:
        """A remote server went down or came back (called from a worker thread)."""
        if self._loop is None:
            return
        message = (
            "atoll: the completion server is back."
            if up
            else f"atoll: the completion server is unavailable ({detail}); completions are "
            "empty until it returns."
        )
        self._loop.call_soon_threadsafe(self._notify, "info" if up else "warning", message)

    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = {"enabled": self._config().completion.enabled}
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
        info["models"] = registry().describe()
        if self.last:
            info["last"] = self.last
        if self.error:
            info["error"] = self.error
        return info

    # -- requests and documents ----------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResult | None:
        """The engine's answer; None while there is no engine (loading, off, failed)."""
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), READY_WAIT_S)
            except TimeoutError:
                return None
        engine = self.engine
        if engine is None:
            return None
        self._cancel_timer(request.uri)
        result = await engine.complete(request)
        keep = ("source", "prompt_tokens", "cached_tokens", "evaluated_tokens", "decode_tokens")
        self.last = {k: v for k, v in result.as_dict().items() if k in (*keep, "timings_ms")}
        return result

    def opened(self, uri: str, path: Path | None, text: str) -> None:
        """A document opened: warm its first window (where an editor usually starts)."""
        engine = self.engine
        if engine is not None and self._config().completion.warmup:
            self._spawn(engine.warm(uri, text, engine.prompts.first_window_end(text), path))

    def edited(self, uri: str, path: Path | None, text: str, offset: int) -> None:
        """The user edited ``uri`` at ``offset``: remember it; warm there once idle."""
        engine = self.engine
        if engine is None:
            return
        engine.note_edit(path, text, offset)
        idle_ms = self._config().completion.warm_idle_ms
        if idle_ms <= 0 or self._loop is None or not self._config().completion.warmup:
            return
        self._cancel_timer(uri)
        self._timers[uri] = self._loop.call_later(
            idle_ms / 1000, lambda: self._spawn(self._warm_now(uri, path, text, offset))
        )

    def warm_at(self, uri: str, path: Path | None, text: str, offset: int) -> None:
        """The client says where the cursor is (focus, a jump): warm there now."""
        engine = self.engine
        if engine is not None:
            self._cancel_timer(uri)
            self._spawn(engine.warm(uri, text, offset, path))

    def closed(self, uri: str) -> None:
        self._cancel_timer(uri)
        if self.engine is not None:
            self.engine.forget(uri)

    async def _warm_now(self, uri: str, path: Path | None, text: str, offset: int) -> None:
        self._timers.pop(uri, None)
        if self.engine is not None:
            await self.engine.warm(uri, text, offset, path)

    def _cancel_timer(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(_finished(self._tasks))


def _finished(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("warming failed: %s", task.exception())

    return done


def backend_settings(config: AtollConfig) -> tuple[Any, ...]:
    """What loading the backend depends on (other completion settings apply live)."""
    c = config.completion
    return (c.enabled, c.backend, c.endpoint, c.fim_template, c.backoff_max_s, c.time_budget_ms,
            c.server, config.models)  # fmt: skip
