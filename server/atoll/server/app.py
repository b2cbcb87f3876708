"""The atoll language server: one pygls ``LanguageServer`` subclass and its factory.

This module only wires things together. Each LSP feature lives in its own module
under :mod:`atoll.server.features` and registers itself through ``register(server)``.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import logging
import os
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from atoll.config import AtollConfig, LoadedConfig, load_config
from atoll.models.types import TextModel
from atoll.server import features
from atoll.server.logs import attach_client_log_handler, set_log_level
from atoll.server.lsp.conversions import WARNING, show_message
from atoll.server.protocol import AtollProtocol

if TYPE_CHECKING:
    from atoll.indexing import WorkspaceIndex

__all__ = ["AtollServer", "create_server", "parent_alive"]
log = logging.getLogger(__name__)

__version__ = "0.1.0"
F = TypeVar("F", bound=Callable[..., Any])
Hook = Callable[[], Awaitable[None] | None]


class AtollServer(LanguageServer):
    """Holds the configuration, the workspace root and the hooks features share."""

    def __init__(self, *, cli_settings: Mapping[str, str] | None = None) -> None:
        super().__init__("atoll", __version__, protocol_cls=AtollProtocol)
        self.cli_settings: dict[str, str] = dict(cli_settings or {})
        # The editor's settings from the user's own scope, and those that came from the
        # workspace (untrusted: the config loader refuses machine-scope keys from there).
        self.editor_settings: dict[str, Any] = {}
        self.editor_workspace_settings: dict[str, Any] = {}
        # The editor's Workspace Trust: an untrusted folder gets no crew (VS Code sends it).
        self.workspace_trusted = True
        self.root: Path | None = None
        self.loaded: LoadedConfig = load_config(None, cli=self.cli_settings)
        # Called after `initialized` (start background work) and after a config change.
        self.on_initialized: list[Hook] = []
        self.on_config_changed: list[Hook] = []
        self.on_shutdown: list[Hook] = []
        # Sections of the `atoll.status` answer, one per feature that has state to show.
        self.status_providers: dict[str, Callable[[], Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        # Set once the protocol runs; lets worker threads hand results back.
        self.event_loop: asyncio.AbstractEventLoop | None = None
        # The workspace index: set by the indexer feature as soon as it opens; the
        # event is set then (or once it is clear that no index will open).
        self.index: WorkspaceIndex | None = None
        self.index_opened = asyncio.Event()
        # The one local text model (completion + explanations), set at `initialized`
        # by features/inline_completion.py; None when no backend could start.
        self.llm: TextModel | None = None

    async def opened_index(self, timeout_s: float = 15.0) -> WorkspaceIndex | None:
        """The index, once it has opened: a request right after start-up answers from
        the index on disk instead of an empty list (opening takes a fraction of a second)."""
        if not self.index_opened.is_set():
            try:
                await asyncio.wait_for(self.index_opened.wait(), timeout_s)
            except TimeoutError:
                log.warning("the index did not open within %.0f s; answering without it", timeout_s)
        index = self.index
        return index if index is not None and not index.closed else None

    @property
    def config(self) -> AtollConfig:
        return self.loaded.config

    def reload_config(self) -> None:
        """Re-read every layer; report rejected settings to the log and the user once."""
        self.loaded = load_config(
            self.root,
            cli=self.cli_settings,
            editor=self.editor_settings,
            editor_workspace=self.editor_workspace_settings,
        )
        set_log_level(self.config.server.log_level)
        for issue in self.loaded.issues:
            log.warning("config: %s", issue)
        if self.loaded.issues and self.protocol.writer is not None:
            shown = "; ".join(str(i) for i in self.loaded.issues[:3])
            more = len(self.loaded.issues) - 3
            tail = f" (and {more} more, see the log)" if more > 0 else ""
            show_message(self, f"atoll: ignored invalid settings: {shown}{tail}", WARNING)

    def guarded(self, name: str, *, default: Any = None) -> Callable[[F], F]:
        """Error boundary for one feature: a failure is logged and answered with ``default``.

        One broken feature never takes the server down; the client gets an empty
        result instead of an exception trace.
        """

        def wrap(fn: F) -> F:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_guard(*args: Any, **kwargs: Any) -> Any:
                    try:
                        return await fn(*args, **kwargs)
                    except (asyncio.CancelledError, JsonRpcException):
                        raise
                    except Exception as exc:
                        log.exception("%s failed: %s", name, exc)
                        return default

                return async_guard  # type: ignore[return-value]

            @functools.wraps(fn)
            def guard(*args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(*args, **kwargs)
                except JsonRpcException:
                    raise
                except Exception as exc:
                    log.exception("%s failed: %s", name, exc)
                    return default

            return guard  # type: ignore[return-value]

        return wrap

    def spawn(self, coro: Awaitable[Any], *, name: str) -> asyncio.Task[Any]:
        """Run background work, keep a reference, and log (not raise) its failure."""

        async def runner() -> Any:
            try:
                return await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("background task %s failed: %s", name, exc)
                return None

        task = asyncio.ensure_future(runner())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def run_hooks(self, hooks: list[Hook]) -> None:
        for hook in hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                log.exception("hook %s failed: %s", getattr(hook, "__qualname__", hook), exc)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Out-of-band errors (a bad notification, an unparsable message) are logged,
        # never popped up in the user's face on every keystroke.
        log.error("protocol error (%s): %s", getattr(source, "__name__", source), error)


def _register_features(server: AtollServer) -> None:
    for info in sorted(pkgutil.iter_modules(features.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{features.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is None:
            continue
        register(server)


def create_server(*, cli_settings: Mapping[str, str] | None = None) -> AtollServer:
    """Build a server with every feature under :mod:`atoll.server.features` registered."""
    server = AtollServer(cli_settings=cli_settings)
    attach_client_log_handler(server)
    _register_features(server)
    return server


def parent_alive(pid: int) -> bool:
    """Whether the editor process that started us still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
