"""A client inside the test process, wired to a real server's protocol.

It records what the server sends and answers the server's own requests (progress
tokens, ``workspace/applyEdit``) so a feature's module-level handler can be called
directly, without starting ``atoll serve``. End-to-end behaviour stays in tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import client_capabilities

from atoll.server import create_server
from atoll.server.app import AtollServer


class Loopback:
    def __init__(self, server: AtollServer, answers: dict[str, Any] | None = None) -> None:
        self.server = server
        self.answers = {types.WINDOW_WORK_DONE_PROGRESS_CREATE: None, **(answers or {})}
        self.sent: list[dict[str, Any]] = []
        server.protocol.set_writer(self, include_headers=False)

    def write(self, data: bytes) -> None:
        message = json.loads(data)
        self.sent.append(message)
        if "id" in message and "method" in message and message["method"] in self.answers:
            reply = {
                "jsonrpc": "2.0",
                "id": message["id"],
                "result": self.answers[message["method"]],
            }
            asyncio.get_running_loop().call_soon(self.send, reply)

    def send(self, message: dict[str, Any]) -> None:
        protocol = self.server.protocol
        protocol.handle_message(protocol.structure_message(message))

    def notify(self, method: str, params: Any) -> None:
        unstructured = get_converter().unstructure(params)
        self.send({"jsonrpc": "2.0", "method": method, "params": unstructured})

    async def initialize(self, root: Path, client: str = "visual_studio_code") -> None:
        params = types.InitializeParams(
            capabilities=client_capabilities(client),
            root_uri=root.as_uri(),
            initialization_options={"completion": {"enabled": False}},
        )
        self.send(
            {"jsonrpc": "2.0", "id": "init", "method": types.INITIALIZE,
             "params": get_converter().unstructure(params)}
        )  # fmt: skip
        for _ in range(100):
            if any(m.get("id") == "init" for m in self.sent):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the server did not answer initialize")

    def progress(self) -> list[dict[str, Any]]:
        """The ``$/progress`` values sent, in order."""
        return [m["params"]["value"] for m in self.sent if m.get("method") == types.PROGRESS]

    def messages(self) -> list[str]:
        return [
            m["params"]["message"] for m in self.sent if m.get("method") == "window/showMessage"
        ]


async def started(root: Path, client: str = "visual_studio_code", **answers: Any) -> Loopback:
    """A real server with every feature registered, initialized as ``client`` in ``root``."""
    loopback = Loopback(create_server(), answers)
    await loopback.initialize(root, client)
    return loopback
