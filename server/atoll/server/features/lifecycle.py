"""initialize / initialized / didChangeConfiguration / shutdown, and the parent watch."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer, parent_alive
from atoll.server.lsp.conversions import uri_to_path

log = logging.getLogger(__name__)
PARENT_POLL_S = 2.0


# Keys of the settings object that are not settings: the part that came from the
# workspace (untrusted) and the editor's Workspace Trust.
WORKSPACE_SETTINGS = "workspaceSettings"
WORKSPACE_TRUSTED = "workspaceTrusted"


def _settings(value: Any) -> dict[str, Any]:
    """Editor settings arrive as ``{...}`` or ``{"atoll": {...}}``; anything else is ignored."""
    if not isinstance(value, dict):
        return {}
    inner = value.get("atoll")
    return dict(inner) if isinstance(inner, dict) else dict(value)


def _take_settings(ls: AtollServer, value: Any) -> bool:
    """Split what the editor sent into the user's settings, the workspace's and its trust."""
    settings = _settings(value)
    if not settings:
        return False
    folder = settings.pop(WORKSPACE_SETTINGS, None)
    trusted = settings.pop(WORKSPACE_TRUSTED, None)
    ls.editor_settings = settings
    ls.editor_workspace_settings = dict(folder) if isinstance(folder, dict) else {}
    if isinstance(trusted, bool):
        ls.workspace_trusted = trusted
    return True


async def _watch_parent(server: AtollServer, pid: int) -> None:
    while True:
        await asyncio.sleep(PARENT_POLL_S)
        if not parent_alive(pid):
            log.warning("editor process %d is gone; exiting", pid)
            await server.run_hooks(server.on_shutdown)
            os._exit(0)


def initialize(ls: AtollServer, params: types.InitializeParams) -> None:
    """Take the workspace root and the editor's settings; watch the editor's process."""
    ls.event_loop = asyncio.get_running_loop()
    root_uri = params.root_uri
    if params.workspace_folders:
        root_uri = params.workspace_folders[0].uri
    if root_uri is None and params.root_path:
        root_uri = f"file://{params.root_path}"
    ls.root = uri_to_path(root_uri) if root_uri else None
    _take_settings(ls, params.initialization_options)
    ls.reload_config()
    client = params.client_info.name if params.client_info else "unknown client"
    log.info("atoll %s serving %s for %s", ls.version, ls.root or "(no folder)", client)
    if params.process_id:
        ls.spawn(_watch_parent(ls, params.process_id), name="parent-watch")


async def initialized(ls: AtollServer, params: types.InitializedParams) -> None:
    await ls.run_hooks(ls.on_initialized)


async def did_change_configuration(
    ls: AtollServer, params: types.DidChangeConfigurationParams
) -> None:
    _take_settings(ls, params.settings)
    ls.reload_config()
    await ls.run_hooks(ls.on_config_changed)


async def shutdown(ls: AtollServer, params: Any) -> None:
    await ls.run_hooks(ls.on_shutdown)


def register(server: AtollServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.SHUTDOWN)(shutdown)
