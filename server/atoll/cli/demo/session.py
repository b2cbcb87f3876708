"""A small LSP client session that prints each exchange readably."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax

T = TypeVar("T")


class DemoSession:
    """Starts the server as a subprocess and narrates each request and answer."""

    def __init__(self, workspace: Path, console: Console, *, server_args: list[str]) -> None:
        self.workspace = workspace
        self.console = console
        self.server_args = server_args
        self.client = LanguageClient("atoll-demo", "0.1.0")
        self.notifications: list[str] = []
        self.result: types.InitializeResult | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self.server_log: list[str] = []

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _log(params: types.LogMessageParams) -> None:
            self.notifications.append(params.message)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def _show(params: types.ShowMessageParams) -> None:
            self.console.print(f"[yellow]  server says:[/] {params.message}")

    def uri(self, relative: str) -> str:
        return (self.workspace / relative).as_uri()

    async def start(self, capabilities: types.ClientCapabilities) -> types.InitializeResult:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        await self.client.start_io(
            sys.executable, "-m", "atoll.cli", "serve", *self.server_args, env=env
        )
        server = getattr(self.client, "_server", None)
        if server is not None and server.stderr is not None:
            self._stderr_task = asyncio.create_task(self._drain(server.stderr))
        params = types.InitializeParams(
            process_id=os.getpid(),
            root_uri=self.workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(self.workspace.as_uri(), self.workspace.name)],
            capabilities=capabilities,
            client_info=types.ClientInfo("atoll-demo"),
        )
        self.result = await self.request("initialize", self.client.initialize_async(params))
        self.client.initialized(types.InitializedParams())
        return self.result

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.server_log.append(line.decode(errors="replace").rstrip())

    def open(self, relative: str, language_id: str) -> str:
        uri = self.uri(relative)
        text = (self.workspace / relative).read_text()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )
        self.console.print(f"[dim]→ textDocument/didOpen {relative} ({len(text)} chars)[/]")
        return uri

    async def request(self, method: str, call: Awaitable[T], *, timeout: float = 120.0) -> T:
        """Await one request, printing its method and round-trip time."""
        start = time.perf_counter()
        result = await asyncio.wait_for(call, timeout)
        ms = (time.perf_counter() - start) * 1000
        self.console.print(f"[cyan]→ {method}[/] [dim]({ms:.0f} ms)[/]")
        return result

    def show(self, title: str, body: str, *, lexer: str = "text") -> None:
        self.console.print(Panel(Syntax(body, lexer, word_wrap=True), title=title, expand=False))

    def show_json(self, title: str, data: Any) -> None:
        self.show(title, json.dumps(data, indent=2, default=str), lexer="json")

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()
            if self._stderr_task is not None:
                self._stderr_task.cancel()
