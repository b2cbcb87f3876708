"""End-to-end harness: `atoll serve` as a subprocess, driven by pytest-lsp's client.

Every e2e test that takes ``client`` runs twice: with VS Code's and with Neovim's
client capabilities.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from atoll.cli.demo.clients import CLIENTS, capabilities_for
from tests.e2e.llamacpp import server_command

StartServer = Callable[..., Awaitable[LanguageClient]]


@pytest.fixture(params=CLIENTS)
def client_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """Factory: start a server on ``workspace`` with extra settings and environment."""
    started: list[LanguageClient] = []

    async def start(
        workspace: Path,
        *,
        client: str = "visual_studio_code",
        settings: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> LanguageClient:
        config = ClientServerConfig(
            server_command=[sys.executable, "-m", "atoll.cli", "serve", *(args or [])],
            server_env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        lsp = await config.start()
        assert isinstance(lsp, LanguageClient)
        started.append(lsp)
        params = types.InitializeParams(
            capabilities=capabilities_for(client),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
            initialization_options=settings or {},
            client_info=types.ClientInfo(client),
        )
        await lsp.initialize_session(params)
        return lsp

    yield start
    for lsp in started:
        try:
            if not lsp.stopped:
                await lsp.shutdown_session()
        finally:
            await lsp.stop()


@pytest_asyncio.fixture
async def client(
    client_name: str, sample_workspace: Path, start_server: StartServer
) -> LanguageClient:
    """A server on a fresh copy of the sample workspace, for each client's capabilities."""
    return await start_server(sample_workspace, client=client_name)


async def status(lsp: LanguageClient) -> dict[str, Any]:
    """The server's ``atoll.status`` snapshot (also proves it still answers)."""
    result = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="atoll.status", arguments=[])
    )
    assert isinstance(result, dict)
    return result


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch_llama_server(
    log_path: Path, *extra: str, port: int = 0, n_ctx: int = 4096, api_key: str = ""
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python -m llama_cpp.server`` on the demo GGUF on a loopback port (``0``: a
    free one), requiring ``api_key`` when one is given (with atoll's load guard, see
    :mod:`tests.e2e.llamacpp`).

    Returns the process and its base URL ``http://127.0.0.1:<port>/v1`` once it answers.
    """
    from atoll.config import AtollConfig
    from atoll.config.models import resolve_gguf

    gguf = resolve_gguf(AtollConfig()).path
    port = port or free_port()
    base = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command("--model", str(gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", str(n_ctx),
             *(["--api_key", api_key] if api_key else []), *extra),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            tail = log_path.read_bytes()[-2000:].decode(errors="replace")
            raise RuntimeError(f"llama_cpp.server exited with {process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(
                urllib.request.Request(base + "/models", headers=headers), timeout=1
            ):
                return process, base
        except OSError:
            if time.monotonic() > deadline:
                stop_process(process)
                raise RuntimeError("llama_cpp.server did not start in 60 s") from None
            time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` on the demo GGUF (the stand-in for vLLM).

    Session-scoped, on a free loopback port, default chat format (the tiny model answers
    tool requests in plain text). Yields the base URL ``http://127.0.0.1:<port>/v1``.
    """
    process, base = launch_llama_server(tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        yield base
    finally:
        stop_process(process)
