"""Logging: stderr always (stdout is the protocol), and the client's log once connected."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from atoll.server.app import AtollServer

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_TO_LSP = {
    logging.DEBUG: types.MessageType.Log,
    logging.INFO: types.MessageType.Info,
    logging.WARNING: types.MessageType.Warning,
    logging.ERROR: types.MessageType.Error,
    logging.CRITICAL: types.MessageType.Error,
}


def configure_stderr_logging(level: str = "info") -> None:
    """Send atoll's logs to stderr. Never stdout: in stdio mode that is the protocol."""
    root = logging.getLogger("atoll")
    if not any(getattr(h, "_atoll_stderr", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._atoll_stderr = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    set_log_level(level)


def set_log_level(level: str) -> None:
    logging.getLogger("atoll").setLevel(_LEVELS.get(level, logging.INFO))


class ClientLogHandler(logging.Handler):
    """Forward log records to the editor's output channel (``window/logMessage``)."""

    def __init__(self, server: AtollServer) -> None:
        super().__init__()
        self.server = server
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        # A failure while sending must not log again (and recurse).
        if getattr(self._local, "busy", False) or self.server.protocol.writer is None:
            return
        self._local.busy = True
        try:
            params = types.LogMessageParams(
                type=_TO_LSP.get(record.levelno, types.MessageType.Log),
                message=self.format(record),
            )
            loop = self.server.event_loop
            if loop is not None and threading.current_thread() is not threading.main_thread():
                loop.call_soon_threadsafe(self.server.window_log_message, params)
            else:
                self.server.window_log_message(params)
        except Exception:
            pass
        finally:
            self._local.busy = False


def attach_client_log_handler(server: AtollServer) -> None:
    logger = logging.getLogger("atoll")
    for old in [h for h in logger.handlers if isinstance(h, ClientLogHandler)]:
        logger.removeHandler(old)
    handler = ClientLogHandler(server)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
