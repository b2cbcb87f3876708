"""The index across real processes over LSP: two editor windows, a terminal, start-up.

- A second ``atoll serve`` on the same workspace reads the index the first one writes,
  answers from it, and takes over writing when the first one exits.
- CLI commands run while a server writes, and nothing is set aside or deleted.
- The first requests after start answer from the index on disk (not ``[]``), and no
  embedding model is loaded when no chunk needs embedding.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from atoll.config import load_config
from atoll.indexing import WorkspaceIndex
from atoll.indexing.embed import LocalEmbedder
from atoll.indexing.vectors import EdgeVectorStore, write_manifest
from tests.e2e.conftest import StartServer, status


@pytest.fixture(autouse=True)
def no_models() -> Iterator[None]:
    os.environ["ATOLL_COMPLETION_ENABLED"] = "0"
    os.environ["ATOLL_HOVER_EXPLAIN"] = "0"
    yield


async def index_state(lsp: LanguageClient, wanted: str, timeout: float = 90.0) -> dict[str, Any]:
    for _ in range(int(timeout / 0.1)):
        index = dict((await status(lsp)).get("index", {}))
        if index.get("state") == wanted:
            return index
        assert index.get("state") != "error", index
        await asyncio.sleep(0.1)
    pytest.fail(f"the index never reached {wanted!r}")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0", "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "atoll.cli", *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip


def server_pid(lsp: LanguageClient) -> int:
    process = lsp._server  # the server subprocess pytest-lsp started
    assert process is not None
    return int(process.pid)


async def test_two_windows_one_index_and_a_terminal(
    sample_workspace: Path, start_server: StartServer
) -> None:
    ws = sample_workspace
    env = {"ATOLL_INDEXING_EMBEDDINGS": "0", "ATOLL_INDEXING_TAKEOVER_S": "0.3"}
    first = await start_server(ws, env=env)
    await index_state(first, "ready")
    second = await start_server(ws, client="neovim", env=env)
    reading = await index_state(second, "reader")
    assert f"pid {server_pid(first)} (atoll serve" in reading["writer"]
    found = await second.workspace_symbol_async(types.WorkspaceSymbolParams(query="Inventory"))
    assert found and found[0].name == "Inventory"
    # A terminal meanwhile: search answers, index says who keeps the index.
    searched = cli("search", "stock value", "-w", str(ws), "--json")
    assert searched.returncode == 0 and json.loads(searched.stdout), searched.stderr
    report = json.loads(cli("index", str(ws), "--json").stdout)
    assert report["indexed_here"] is False and report["writer"]["pid"] == server_pid(first)
    # The first window closes: the second takes over and keeps the index fresh.
    await first.shutdown_session()
    await index_state(second, "ready")
    extra = ws / "inventory" / "extra.py"
    extra.write_text("def restock_everything():\n    pass\n")
    second.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(extra.as_uri()))
    )
    for _ in range(300):
        query = types.WorkspaceSymbolParams(query="restock_everything")
        if await second.workspace_symbol_async(query):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the server that took over did not index the saved file")
    leftovers = [p.name for p in (ws / ".atoll").iterdir() if "corrupt" in p.name]
    assert not leftovers


async def test_first_requests_answer_from_the_index_on_disk(
    sample_workspace: Path, start_server: StartServer
) -> None:
    ws = sample_workspace
    assert cli("index", str(ws)).returncode == 0
    lsp = await start_server(ws, env={"ATOLL_INDEXING_EMBEDDINGS": "0"})
    # No waiting for "ready": these go out right after `initialized`.
    report = ws / "inventory" / "report.py"
    lines = report.read_text().splitlines()
    line = next(i for i, t in enumerate(lines) if "format_cents(item" in t)
    here = types.Position(line, lines[line].index("format_cents") + 2)
    doc = types.TextDocumentIdentifier(report.as_uri())
    answers = await asyncio.gather(
        lsp.workspace_symbol_async(types.WorkspaceSymbolParams(query="StockModel")),
        lsp.text_document_document_symbol_async(types.DocumentSymbolParams(doc)),
        lsp.text_document_definition_async(types.DefinitionParams(doc, here)),
        lsp.text_document_hover_async(types.HoverParams(doc, here)),
    )
    symbols, outline, definition, hover = answers
    assert symbols and symbols[0].name == "StockModel"
    assert outline and definition
    assert hover is not None and "format_cents" in str(hover.contents)


def mapped_files(pid: int) -> str:
    """The shared libraries (and other files) a process has mapped."""
    return Path(f"/proc/{pid}/maps").read_text()


def _all_embedded(ws: Path) -> None:
    """An index whose chunks all have vectors (vectors made up: nothing is embedded)."""
    cfg = load_config(ws, cli={"indexing.embeddings": "0"}).config
    index = WorkspaceIndex.open(ws, cfg)
    index.index_all()
    ids = [int(r[0]) for r in index.store.query("SELECT cid FROM chunks")]
    index.store.mark_embedded(ids)
    index.close()
    shard = ws / ".atoll" / "vectors" / "shard"
    store = EdgeVectorStore(shard, 384)
    store.upsert(ids, [[1.0] + [0.0] * 383] * len(ids), [{"language": "python"}] * len(ids))
    store.close()
    model = LocalEmbedder(load_config(ws).config).name
    write_manifest(shard.parent, {"model": model, "dim": 384, "store": "edge", "url": "",
                                  "collection": ""})  # fmt: skip


async def test_no_embedding_model_is_loaded_when_nothing_needs_one(
    sample_workspace: Path, start_server: StartServer
) -> None:
    ws = sample_workspace
    _all_embedded(ws)
    lsp = await start_server(ws, env={"ATOLL_INDEXING_EMBEDDINGS": "1"})
    ready = await index_state(lsp, "ready")
    assert ready["chunks"] > 0 and "vectors" not in ready, ready
    assert await lsp.workspace_symbol_async(types.WorkspaceSymbolParams(query="Inventory"))
    assert "libtorch" not in mapped_files(server_pid(lsp)), (
        "torch was loaded although no chunk needed embedding"
    )
