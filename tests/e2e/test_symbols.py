"""Workspace and document symbols, definition and re-indexing over LSP, on the sample workspace."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartServer, status


@pytest.fixture(autouse=True)
def lexical_only() -> Iterator[None]:
    """These servers load no model: no embeddings, no completion model (CPU is scarce)."""
    os.environ["ATOLL_INDEXING_EMBEDDINGS"] = "0"
    os.environ["ATOLL_COMPLETION_ENABLED"] = "0"
    os.environ["ATOLL_HOVER_EXPLAIN"] = "0"
    yield


async def wait_ready(lsp: LanguageClient, timeout: float = 60.0) -> dict[str, Any]:
    for _ in range(int(timeout / 0.1)):
        index = (await status(lsp)).get("index", {})
        if index.get("state") in ("ready", "error"):
            assert index["state"] == "ready", index
            return dict(index)
        await asyncio.sleep(0.1)
    pytest.fail("the index never became ready")


def names(symbols: list[Any]) -> list[str]:
    return [s.name for s in symbols]


async def test_workspace_symbol_ranks_exact_prefix_and_fuzzy(client: LanguageClient) -> None:
    info = await wait_ready(client)
    assert info["symbols"] >= 20 and info["done"] == info["total"]
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="StockModel"))
    assert found and found[0].name == "StockModel"
    assert found[0].location.uri.endswith("rust/src/lib.rs")
    assert found[0].kind == types.SymbolKind.Struct
    total = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="total"))
    assert {"total_value", "total_units"} <= set(names(total or []))
    fuzzy = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="fmtcents"))
    assert fuzzy and fuzzy[0].name == "format_cents"
    camel = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="tu"))
    assert "total_units" in names(camel or [])


async def test_background_indexing_reports_work_done_progress(client: LanguageClient) -> None:
    await wait_ready(client)
    for _ in range(50):
        reports = [
            r
            for token, rs in client.progress_reports.items()
            if str(token).startswith("atoll-index")
            for r in rs
        ]
        if reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.05)
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert reports[0].title == "atoll: indexing"
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert "symbols" in (reports[-1].message or "")


async def test_document_symbols_are_hierarchical_and_follow_the_buffer(
    client: LanguageClient, sample_workspace: Path, client_name: str
) -> None:
    path = sample_workspace / "inventory" / "models.py"
    uri = path.as_uri()
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    assert result
    if isinstance(result[0], types.DocumentSymbol):
        top = {s.name: s for s in result if isinstance(s, types.DocumentSymbol)}
        assert set(top) == {"Item", "Inventory"}
        children = names(top["Inventory"].children or [])
        assert children == ["items", "add", "remove", "total_value"]
        assert top["Inventory"].selection_range.start == types.Position(22, 6)
    else:
        flat = {(s.container_name or "", s.name) for s in result}
        assert ("Inventory", "add") in flat
    # An unsaved buffer wins over the file on disk.
    text = path.read_text() + "\n\ndef fresh_function() -> None:\n    pass\n"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    )
    assert "fresh_function" in names(result or [])


async def test_rust_and_qml_document_symbols(
    client: LanguageClient, sample_workspace: Path
) -> None:
    rust = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            types.TextDocumentIdentifier((sample_workspace / "rust/src/lib.rs").as_uri())
        )
    )
    assert {"Bin", "StockModel", "restock"} <= _all_names(rust or [])
    qml = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(
            types.TextDocumentIdentifier((sample_workspace / "qml/Main.qml").as_uri())
        )
    )
    assert {"window", "stock", "restockButton"} <= _all_names(qml or [])


def _all_names(symbols: list[Any]) -> set[str]:
    out: set[str] = set()
    for s in symbols:
        out.add(s.name)
        out |= _all_names(getattr(s, "children", None) or [])
    return out


async def test_definition_from_qml_to_rust_and_within_python(
    client: LanguageClient, sample_workspace: Path
) -> None:
    await wait_ready(client)
    qml = sample_workspace / "qml" / "Main.qml"
    line = next(i for i, t in enumerate(qml.read_text().splitlines()) if "StockModel {" in t)
    found = await client.text_document_definition_async(
        types.DefinitionParams(types.TextDocumentIdentifier(qml.as_uri()), types.Position(line, 6))
    )
    assert isinstance(found, list) and found
    assert found[0].uri.endswith("rust/src/lib.rs")
    assert found[0].range.start.line == 10
    report = sample_workspace / "inventory" / "report.py"
    line = next(
        i for i, t in enumerate(report.read_text().splitlines()) if "format_cents(item" in t
    )
    col = report.read_text().splitlines()[line].index("format_cents")
    found = await client.text_document_definition_async(
        types.DefinitionParams(
            types.TextDocumentIdentifier(report.as_uri()), types.Position(line, col + 2)
        )
    )
    assert isinstance(found, list) and found[0].uri == report.as_uri()
    assert found[0].range.start.line == 5


async def test_save_and_watched_file_changes_reindex(
    client: LanguageClient, sample_workspace: Path
) -> None:
    await wait_ready(client)
    path = sample_workspace / "inventory" / "extra.py"
    path.write_text("def brand_new_helper() -> int:\n    return 1\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(path.as_uri(), types.FileChangeType.Created)]
        )
    )
    assert await _eventually_found(client, "brand_new_helper")
    path.write_text("def renamed_helper() -> int:\n    return 2\n")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(path.as_uri()))
    )
    assert await _eventually_found(client, "renamed_helper")
    assert "brand_new_helper" not in names(
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="brand_new_helper"))
        or []
    )
    path.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(path.as_uri(), types.FileChangeType.Deleted)]
        )
    )
    for _ in range(100):
        if not await client.workspace_symbol_async(types.WorkspaceSymbolParams("renamed_helper")):
            return
        await asyncio.sleep(0.05)
    pytest.fail("a deleted file's symbols stayed in the index")


async def _eventually_found(client: LanguageClient, name: str) -> bool:
    for _ in range(100):
        found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=name))
        if found and found[0].name == name:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_corrupt_database_is_set_aside_and_rebuilt(
    start_server: StartServer, sample_workspace: Path
) -> None:
    folder = sample_workspace / ".atoll"
    folder.mkdir()
    (folder / "index.db").write_bytes(b"this is not a database" * 200)
    lsp = await start_server(sample_workspace)
    info = await wait_ready(lsp)
    assert info["symbols"] >= 20
    assert list(folder.glob("index.db.corrupt-*"))
    found = await lsp.workspace_symbol_async(types.WorkspaceSymbolParams(query="Inventory"))
    assert found and found[0].name == "Inventory"
