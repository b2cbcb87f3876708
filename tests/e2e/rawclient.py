"""A raw JSON-RPC/LSP client over a subprocess' stdio, for messages no typed client would send."""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any


class RawLspClient:
    """Writes arbitrary JSON (or bytes) to ``atoll serve`` and reads framed replies."""

    def __init__(self, env: dict[str, str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atoll.cli", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        self.ids = itertools.count(1)
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        assert self.proc.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while line := stream.readline():
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if not length:
                return
            message = json.loads(stream.read(length))
            if "id" in message and "method" in message:  # a request from the server
                self.write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                self.replies.put(message)
            else:
                self.notifications.append(message)

    def write_bytes(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def write(self, message: dict[str, Any]) -> None:
        self.write_bytes(json.dumps(message).encode())

    def notify(self, method: str, params: Any) -> None:
        self.write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 60) -> dict[str, Any]:
        """Send a request and return its reply (``result`` or ``error``)."""
        request_id = next(self.ids)
        self.write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        while True:
            reply = self.replies.get(timeout=timeout)
            if reply.get("id") == request_id:
                return reply

    def initialize(self, root: Path, capabilities: dict[str, Any]) -> dict[str, Any]:
        reply = self.request(
            "initialize",
            {"processId": None, "rootUri": root.as_uri(), "capabilities": capabilities},
        )
        self.notify("initialized", {})
        return reply

    def alive(self) -> bool:
        reply = self.request("workspace/executeCommand", {"command": "atoll.status"}, timeout=60)
        return "version" in (reply.get("result") or {})

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=20)
            self.notify("exit", None)
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()
            self.proc.wait()
