"""``atoll mcp``: serve atoll's index and crew to MCP clients on stdio."""

from __future__ import annotations

import logging
import sys

import typer

from atoll.cli.common import fail, workspace_config
from atoll.cli.options import Sets, Workspace


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    def mcp_command(
        workspace: Workspace = None,
        sets: Sets = None,
    ) -> None:
        """Serve search, symbols, outline, definitions and a delegate tool (a diff, never
        applied) over MCP on stdio, for Continue, Zed and other MCP clients (docs/mcp.md)."""
        try:
            from atoll.mcp.server import IndexHolder, create_server
        except ImportError as exc:  # a dependency; a broken install says which part is missing
            if (exc.name or "").split(".")[0] == "mcp":
                fail(f"the MCP SDK is not installed ({exc}): pip install 'mcp>=2.3,<3'")
            fail(f"atoll is not fully installed ({exc}): run `make setup` again")
        # stdout carries the protocol: every log line goes to stderr.
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="atoll mcp: %(message)s")
        root, loaded = workspace_config(workspace, sets)
        config = loaded.config
        holder = IndexHolder(root, config)
        try:
            create_server(root, config, holder).run("stdio")
        finally:
            holder.close()
