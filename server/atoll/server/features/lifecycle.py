"""initialize / initialized / didChangeConfiguration / shutdown, and the parent watch."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer, parent_alive, uri_to_path

log = logging.getLogger(__name__)
PARENT_POLL_S = 2.0


def _settings(value: Any) -> dict[str, Any]:
    """Editor settings arrive as ``{...}`` or ``{"atoll": {...}}``; anything else is ignored."""
    if not isinstance(value, dict):
        return {}
    inner = value.get("atoll")
    return dict(inner) if isinstance(inner, dict) else dict(value)


async def _watch_parent(server: AtollServer, pid: int) -> None:
    while True:
        await asyncio.sleep(PARENT_POLL_S)
        if not parent_alive(pid):
            log.warning("editor process %d is gone; exiting", pid)
            await server.run_hooks(server.on_shutdown)
            os._exit(0)


def register(server: AtollServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: AtollServer, params: types.InitializeParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        root_uri = params.root_uri
        if params.workspace_folders:
            root_uri = params.workspace_folders[0].uri
        if root_uri is None and params.root_path:
            root_uri = f"file://{params.root_path}"
        ls.root = uri_to_path(root_uri) if root_uri else None
        ls.editor_settings = _settings(params.initialization_options)
        ls.reload_config()
        client = params.client_info.name if params.client_info else "unknown client"
        log.info("atoll %s serving %s for %s", ls.version, ls.root or "(no folder)", client)
        if params.process_id:
            ls.spawn(_watch_parent(ls, params.process_id), name="parent-watch")

    @server.feature(types.INITIALIZED)
    async def initialized(ls: AtollServer, params: types.InitializedParams) -> None:
        await ls.run_hooks(ls.on_initialized)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: AtollServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = _settings(params.settings)
        if settings:
            ls.editor_settings = settings
        ls.reload_config()
        await ls.run_hooks(ls.on_config_changed)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AtollServer, params: Any) -> None:
        await ls.run_hooks(ls.on_shutdown)
