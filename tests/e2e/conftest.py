"""End-to-end harness: `atoll serve` as a subprocess, driven by pytest-lsp's client.

Every e2e test that takes ``client`` runs twice: with VS Code's and with Neovim's
client capabilities.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from atoll.cli.demo.clients import CLIENTS, capabilities_for

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
