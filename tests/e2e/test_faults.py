"""Faults from outside: a model server killed mid-stream, a locked or full index disk,
the vector store deleted under a running index. Each ends in a clear message and a
working server (or a clean exit), and never in lost user data.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from atoll.config import load_config
from tests.e2e.conftest import StartServer, launch_llama_server, status, stop_process

NO_EMBED = {"ATOLL_INDEXING_EMBEDDINGS": "0", "ATOLL_COMPLETION_WARMUP": "0"}


def tree_digest(root: Path) -> dict[str, str]:
    """Content hash of every user file (the index folder excluded)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".atoll" not in p.relative_to(root).parts
    }


async def index_settled(lsp: LanguageClient, timeout: float = 90) -> dict[str, Any]:
    """Wait until the index run is over (ready or error); return its status section."""
    deadline = time.monotonic() + timeout
    while True:
        section: dict[str, Any] = (await status(lsp)).get("index", {})
        if section.get("state") in {"ready", "error"} or time.monotonic() > deadline:
            return section
        await asyncio.sleep(0.2)


async def still_serving(lsp: LanguageClient, uri: str) -> None:
    """Symbols from the open buffer and a hover still answer."""
    symbols = await lsp.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    assert symbols, "document symbols stopped working"
    await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))
    )


def open_file(lsp: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
        )
    )
    return uri


# -- the model server ------------------------------------------------------------------


@pytest.fixture
def own_llama_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A llama.cpp server this test may kill (not the shared session one)."""
    process, base = launch_llama_server(tmp_path / "llama.log")
    try:
        yield process, base
    finally:
        if process.poll() is None:
            stop_process(process)


async def test_model_server_killed_mid_stream(
    start_server: StartServer,
    sample_workspace: Path,
    own_llama_server: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, base = own_llama_server
    lsp = await start_server(
        sample_workspace,
        env={
            **NO_EMBED,
            "ATOLL_COMPLETION_BACKEND": "openai",
            "ATOLL_COMPLETION_ENDPOINT_BASE_URL": base,
            "ATOLL_COMPLETION_MAX_TOKENS": "256",
            "ATOLL_COMPLETION_TIME_BUDGET_MS": "20000",
            "ATOLL_COMPLETION_DEBOUNCE_MS": "0",
        },
    )
    path = sample_workspace / "inventory" / "report.py"
    uri = open_file(lsp, path)
    line = len(path.read_text().splitlines())
    request = asyncio.ensure_future(
        lsp.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, 0),
            )
        )
    )
    await asyncio.sleep(0.4)
    process.kill()  # mid-stream (or mid-prompt): the box lost power
    process.wait()
    # The request is answered (a partial or empty suggestion), not left hanging.
    await asyncio.wait_for(request, 60)
    await still_serving(lsp, uri)
    # The next completion degrades quickly to nothing while the server is down.
    result = await asyncio.wait_for(
        lsp.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, 0),
            )
        ),
        60,
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    assert not items
    assert "version" in await status(lsp)


# -- the index's disk ------------------------------------------------------------------


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


@pytest.fixture
def locked_index(sample_workspace: Path) -> Iterator[subprocess.Popen[str]]:
    """The sample, indexed once, then exclusively locked by another process for 8 s."""
    from atoll.indexing import WorkspaceIndex

    config = load_config(sample_workspace, env=NO_EMBED).config
    index = WorkspaceIndex.open(sample_workspace, config)
    index.index_all()
    index.close()
    db = sample_workspace / ".atoll" / "index.db"
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db), "8"], stdout=subprocess.PIPE, text=True
    )
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    try:
        yield locker
    finally:
        locker.kill()
        locker.wait()


async def test_sqlite_locked_by_another_process(
    start_server: StartServer, sample_workspace: Path, locked_index: subprocess.Popen[str]
) -> None:
    before = tree_digest(sample_workspace)
    (sample_workspace / "inventory" / "extra.py").write_text("def added_later():\n    pass\n")
    lsp = await start_server(sample_workspace, env=NO_EMBED)
    uri = open_file(lsp, sample_workspace / "inventory" / "models.py")
    # While locked: the editor is served (buffer symbols, status, hover).
    await still_serving(lsp, uri)
    assert "index" in await status(lsp)
    await asyncio.to_thread(locked_index.wait, 30)
    section = await index_settled(lsp)
    assert section["state"] in {"ready", "error"}, section
    if section["state"] == "error":
        assert "lock" in section.get("error", "").lower(), section
    # Once the lock is gone, a save brings the new file in.
    lsp.text_document_did_save(
        types.DidSaveTextDocumentParams(
            types.TextDocumentIdentifier((sample_workspace / "inventory" / "extra.py").as_uri())
        )
    )
    found: list[Any] = []
    for _ in range(100):
        found = list(
            await lsp.workspace_symbol_async(types.WorkspaceSymbolParams(query="added_later")) or []
        )
        if found:
            break
        await asyncio.sleep(0.1)
    assert found, "the index did not recover after the lock was released"
    after = tree_digest(sample_workspace)
    after.pop("inventory/extra.py")
    assert after == before  # no user file touched


def _mount_tmpfs(target: Path, size: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture
def full_disk_workspace(sample_workspace: Path) -> Iterator[Path]:
    """The sample plus many files, with its .atoll index folder on a 96 KiB tmpfs."""
    if shutil.which("mount") is None or not _mount_tmpfs(sample_workspace / ".atoll", "96k"):
        pytest.skip("cannot mount a size-capped tmpfs here (needs root); disk-full not testable")
    for i in range(150):
        body = "\n".join(f"def function_{i}_{j}(x):\n    return x + {j}\n" for j in range(20))
        (sample_workspace / f"generated_{i}.py").write_text(body)
    try:
        yield sample_workspace
    finally:
        subprocess.run(["umount", "-l", str(sample_workspace / ".atoll")], check=False)


async def test_disk_full_on_the_index_folder(
    start_server: StartServer, full_disk_workspace: Path
) -> None:
    before = tree_digest(full_disk_workspace)
    lsp = await start_server(full_disk_workspace, env=NO_EMBED)
    uri = open_file(lsp, full_disk_workspace / "inventory" / "models.py")
    section = await index_settled(lsp)
    assert section["state"] == "error", section
    assert "full" in section["error"].lower() or "space" in section["error"].lower(), section
    await still_serving(lsp, uri)
    assert tree_digest(full_disk_workspace) == before


def test_vector_store_deleted_while_running(sample_workspace: Path) -> None:
    """The vector folder vanishes under an open index: search still answers, and the
    next run rebuilds the vectors."""
    from atoll.indexing import WorkspaceIndex

    config = load_config(sample_workspace, env={}).config
    index = WorkspaceIndex.open(sample_workspace, config)
    try:
        index.index_all()
        assert index.search("total value of the inventory", k=3)
        vectors = [p for p in (sample_workspace / ".atoll").iterdir() if p.is_dir()]
        assert vectors, "expected a vector store folder under .atoll"
        for folder in vectors:
            shutil.rmtree(folder)
        hits = index.search("total value of the inventory", k=3)
        assert hits, "lexical search should still answer"
        models = sample_workspace / "inventory" / "models.py"
        models.write_text(models.read_text() + "\n\ndef restock_all():\n    pass\n")
        index.update_file(models)
        index.index_all()
        assert any(
            h.symbol.endswith("restock_all") or "restock_all" in h.text
            for h in index.search("restock_all", k=5)
        )
    finally:
        index.close()  # must not raise although its files are gone
    # Reopened, the index sees the vectors are missing and embeds everything again.
    reopened = WorkspaceIndex.open(sample_workspace, config)
    try:
        reopened.index_all()
        assert reopened.hybrid().search("total value of the inventory", k=3, mode="vector")
    finally:
        reopened.close()


@pytest.mark.parametrize("attempt", [1, 2])
def test_shutdown_during_a_decode_exits_cleanly(sample_workspace: Path, attempt: int) -> None:
    """`shutdown` while the model decodes: answered promptly, then exit code 0.

    Freeing the llama.cpp model under a running decode used to crash (-11) after a hang.
    """
    import os

    from tests.e2e.rawclient import RawLspClient

    env = {
        **os.environ,
        **NO_EMBED,
        "ATOLL_COMPLETION_MAX_TOKENS": "200",
        "ATOLL_COMPLETION_TIME_BUDGET_MS": "20000",
        "ATOLL_COMPLETION_DEBOUNCE_MS": "0",
    }
    client = RawLspClient(env)
    try:
        client.initialize(sample_workspace, {"textDocument": {"inlineCompletion": {}}})
        path = sample_workspace / "inventory" / "report.py"
        uri = path.as_uri()
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": path.read_text(),
                }
            },
        )
        client.write({"jsonrpc": "2.0", "id": 999, "method": "textDocument/inlineCompletion",
                      "params": {"textDocument": {"uri": uri},
                                 "position": {"line": 5, "character": 0},
                                 "context": {"triggerKind": 1}}})  # fmt: skip
        time.sleep(0.3 * attempt)
        reply = client.request("shutdown", None, timeout=30)
        assert "error" not in reply
        client.notify("exit", None)
        assert client.proc.wait(timeout=30) == 0
    finally:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait()
