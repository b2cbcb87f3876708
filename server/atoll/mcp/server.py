"""``atoll mcp``: atoll's index and crew as an MCP server on stdio (the official ``mcp`` SDK).

Agents that speak MCP (Continue's agent mode, Zed, Claude Desktop, Cline, ...) get five
tools: ``search_code``, ``find_symbols``, ``outline``, ``read_definition`` and
``delegate``. The first four read the workspace index; ``delegate`` runs the crew on its
staged copy and answers with a diff: it never writes to the workspace.

The index is refreshed once in the background at start; a tool called before the first
refresh ends waits for it (up to :data:`FIRST_INDEX_WAIT_S`), so the first answer is not
an empty one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atoll.config import AtollConfig
from atoll.mcp import tools
from atoll.mcp.delegate import as_text, run_crew

# Imported here, not in a function: the SDK reads the tools' annotations
# (`ctx: Context`) from this module's globals. Only `atoll mcp` imports this module.
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations

if TYPE_CHECKING:
    from atoll.indexing import WorkspaceIndex

log = logging.getLogger(__name__)
FIRST_INDEX_WAIT_S = 120.0
INSTRUCTIONS = (
    "atoll indexes this workspace (tree-sitter symbols, code chunks, embeddings) and runs "
    "an AI crew on a staged copy of it. Paths are relative to the workspace; lines count "
    "from 1. `delegate` returns a diff for review and never changes files."
)


class IndexHolder:
    """The workspace index, opened at start and refreshed once in a background thread."""

    def __init__(self, root: Path, config: AtollConfig) -> None:
        from atoll.indexing import WorkspaceIndex

        self.root = root
        self.index: WorkspaceIndex = WorkspaceIndex.open(root, config)
        self.ready = threading.Event()
        self.error = ""
        self._thread = threading.Thread(target=self._refresh, name="atoll-mcp-index", daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        try:
            stats = self.index.index_all()
            log.info("indexed %s: %d files, %d symbols", self.root, stats.files, stats.symbols)
        except Exception as exc:  # answer from what is there, and say why it is stale
            self.error = f"indexing failed: {type(exc).__name__}: {exc}"
            log.warning("%s", self.error)
        finally:
            self.ready.set()

    async def get(self) -> WorkspaceIndex:
        if not self.ready.is_set():
            await asyncio.to_thread(self.ready.wait, FIRST_INDEX_WAIT_S)
        return self.index

    def close(self) -> None:
        self.ready.wait(FIRST_INDEX_WAIT_S)
        self.index.close()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atoll")
    except PackageNotFoundError:
        return "0+unknown"


def create_server(root: Path, config: AtollConfig, holder: IndexHolder) -> MCPServer:
    """The MCP server with atoll's tools on the index in ``holder``."""
    server = MCPServer("atoll", instructions=INSTRUCTIONS, version=_version())
    # The index tools only read; delegate works on a staged copy and writes nothing here.
    reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    crew = ToolAnnotations(read_only_hint=True, idempotent_hint=False, open_world_hint=False)

    @server.tool(annotations=reads)
    async def search_code(
        query: str, k: int = 10, language: str = "", path: str = ""
    ) -> list[dict[str, Any]]:
        """Search the workspace's code by meaning and by words (hybrid search).

        `language` keeps one language (python, rust, qml, ...); `path` keeps one folder
        (workspace-relative). Returns chunks with their path, 1-based lines and text.
        """
        index = await holder.get()
        return await asyncio.to_thread(tools.search_code, index, query, k, language, path)

    @server.tool(annotations=reads)
    async def find_symbols(query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Find definitions (classes, functions, methods, ...) by name: exact, prefix,
        camelCase or snake_case parts, or fuzzy. Returns kind, path, 1-based line, signature."""
        index = await holder.get()
        return await asyncio.to_thread(tools.find_symbols, index, query, limit)

    @server.tool(annotations=reads)
    async def outline(budget: int = 1024, focus: list[str] | None = None) -> str:
        """A ranked map of the repository: files, then classes and functions with their
        signatures, most important first, cut to `budget` tokens. `focus`: files to favour."""
        index = await holder.get()
        return await asyncio.to_thread(tools.outline, index, budget, focus)

    @server.tool(annotations=reads)
    async def read_definition(name: str, path: str = "") -> list[dict[str, Any]]:
        """The source code of the definition named `name` (`Class.method` narrows it;
        `path` keeps one file). Returns its path, 1-based lines and text."""
        index = await holder.get()
        return await asyncio.to_thread(tools.read_definition, index, name, path)

    @server.tool(annotations=crew)
    async def delegate(task: str, ctx: Context) -> str:
        """Hand a coding task to atoll's AI crew (Architect → Coder → Reviewer → Tester).

        The crew works on a staged copy of the workspace and answers with a unified diff to
        review; nothing is applied to the workspace. Takes minutes on a real model.
        """
        index = await holder.get()
        loop = asyncio.get_running_loop()
        step = 0

        def report(message: str) -> None:
            nonlocal step
            step += 1
            asyncio.run_coroutine_threadsafe(ctx.report_progress(step, message=message), loop)

        cancel = threading.Event()
        try:
            summary = await asyncio.to_thread(
                run_crew, root, config, task, index=index, report=report, cancel=cancel
            )
        except asyncio.CancelledError:  # the client cancelled: stop the crew at its next step
            cancel.set()
            raise
        return as_text(summary)

    return server
