"""pygls' protocol, made to answer every request and to cancel running ones.

- pygls drops a request whose params fail to deserialize without replying, so the
  editor would wait forever. We answer it with ``InvalidParams`` instead.
- pygls' ``$/cancelRequest`` only stops a request that has not started (and never
  reaches a command run through ``workspace/executeCommand``). Every request here
  gets a :class:`threading.Event` that ``$/cancelRequest`` sets, also while it runs;
  long work (a decode, a crew run) checks :func:`request_cancel_event`.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

_CANCEL: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "atoll_request_cancel", default=None
)


def request_cancel_event() -> threading.Event | None:
    """The cancel flag of the request being handled (``None`` outside a request)."""
    return _CANCEL.get()


class AtollProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cancel_events: dict[Any, threading.Event] = {}

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> Any:
        event = threading.Event()
        self.cancel_events[msg_id] = event
        token = _CANCEL.set(event)  # the handler's task copies this context
        try:
            return super()._handle_request(msg_id, method_name, params)
        finally:
            _CANCEL.reset(token)

    def _handle_cancel_notification(self, msg_id: Any) -> Any:
        event = self.cancel_events.pop(msg_id, None)
        if event is not None:
            event.set()
        return super()._handle_cancel_notification(msg_id)

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> Any:
        self.cancel_events.pop(msg_id, None)
        return super()._send_response(msg_id, result=result, error=error)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            if "jsonrpc" in data and "method" in data and not isinstance(data["method"], str):
                raise JsonRpcInvalidRequest(message="method must be a string")
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
                log.warning("rejected request %r (%r): %s", msg_id, data.get("method"), exc)
                self._send_response(msg_id, error=exc.to_response_error())
            raise
