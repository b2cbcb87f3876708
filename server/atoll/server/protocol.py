"""pygls' protocol, made to answer every request.

pygls drops a request whose params fail to deserialize without replying, so the
editor would wait forever. We answer it with ``InvalidParams`` instead.
"""

from __future__ import annotations

import logging
from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class AtollProtocol(LanguageServerProtocol):
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
