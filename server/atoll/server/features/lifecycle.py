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


# Keys of the settings payload that are not settings: the client's split by scope.
WORKSPACE_SETTINGS = "workspaceSettings"
WORKSPACE_TRUSTED = "workspaceTrusted"


def _settings(value: Any) -> dict[str, Any]:
    """Editor settings arrive as ``{...}`` or ``{"atoll": {...}}``; anything else is ignored."""
    if not isinstance(value, dict):
        return {}
    inner = value.get("atoll")
    return dict(inner) if isinstance(inner, dict) else dict(value)


def _take_scopes(ls: AtollServer, settings: dict[str, Any]) -> dict[str, Any]:
    """Split a client's payload: the user's settings stay, the workspace's own
    (``workspaceSettings``) and the folder's trust are kept apart on the server.

    Workspace-scope settings are untrusted like a workspace ``atoll.toml``; until the loader
    takes them as such a layer they are not applied at all (deny by default).
    """
    workspace = settings.pop(WORKSPACE_SETTINGS, None)
    trusted = settings.pop(WORKSPACE_TRUSTED, None)
    ls.workspace_settings = dict(workspace) if isinstance(workspace, dict) else {}
    if isinstance(trusted, bool):
        ls.workspace_trusted = trusted
    return settings


async def _watch_parent(server: AtollServer, pid: int) -> None:
    while True:
        await asyncio.sleep(PARENT_POLL_S)
        if not parent_alive(pid):
            log.warning("editor process %d is gone; exiting", pid)
            await server.run_hooks(server.on_shutdown)
            os._exit(0)


def register(server: AtollServer) -> None:
    server.status_providers["trust"] = lambda: {"trusted": server.workspace_trusted}

    @server.feature(types.INITIALIZE)
    def initialize(ls: AtollServer, params: types.InitializeParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        root_uri = params.root_uri
        if params.workspace_folders:
            root_uri = params.workspace_folders[0].uri
        if root_uri is None and params.root_path:
            root_uri = f"file://{params.root_path}"
        ls.root = uri_to_path(root_uri) if root_uri else None
        ls.editor_settings = _take_scopes(ls, _settings(params.initialization_options))
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
        raw = _settings(params.settings)
        # A client that splits by scope sends its whole tree each time, so an empty one
        # means "back to the defaults"; others may send nothing on a change.
        whole = WORKSPACE_TRUSTED in raw
        settings = _take_scopes(ls, raw)
        if settings or whole:
            ls.editor_settings = settings
        ls.reload_config()
        await ls.run_hooks(ls.on_config_changed)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AtollServer, params: Any) -> None:
        await ls.run_hooks(ls.on_shutdown)
