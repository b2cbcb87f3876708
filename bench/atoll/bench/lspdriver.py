"""An asyncio LSP driver over a subprocess, for benchmarks: raw JSON, precise cancellation."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any


def position(text: str, offset: int) -> dict[str, int]:
    """The LSP position (UTF-16) of ``offset`` in ``text``."""
    start = text.rfind("\n", 0, offset) + 1
    units = len(text[start:offset].encode("utf-16-le")) // 2
    return {"line": text.count("\n", 0, offset), "character": units}


class LspError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", "error"))
        self.code = int(error.get("code", 0))


class LspProcess:
    """``atoll serve`` (or any command) driven over stdio."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        cmd: list[str] | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> LspProcess:
        proc = await asyncio.create_subprocess_exec(
            *(cmd or [sys.executable, "-m", "atoll.cli", "serve"]),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            limit=2**26,
        )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mib(self) -> float:
        """Resident memory of the server process (Linux), in MiB."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    async def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = await stream.readline()
                if not line:
                    self._fail_all()
                    return
                if not line.strip():
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            message = json.loads(await stream.readexactly(length))
            if "id" in message and "method" in message:
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                future = self.pending.pop(message["id"], None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_exception(LspError(message["error"]))
                    else:
                        future.set_result(message.get("result"))
            else:
                self.notifications.append(message)

    def _fail_all(self) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(ConnectionError("server closed the connection"))
        self.pending.clear()

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        """Send a request; return its id and the future of its result."""
        request_id = next(self.ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        self._write({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id, future

    async def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        _, future = self.send(method, params)
        return await asyncio.wait_for(future, timeout)

    def cancel(self, request_id: int) -> None:
        self.notify("$/cancelRequest", {"id": request_id})

    async def initialize(
        self, root: Path, capabilities: dict[str, Any], settings: dict[str, Any] | None = None
    ) -> Any:
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": capabilities,
                "initializationOptions": settings or {},
            },
        )
        self.notify("initialized", {})
        return result

    async def close(self) -> None:
        try:
            await self.request("shutdown", None, timeout=20)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 20)
        except Exception:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        self.reader.cancel()
