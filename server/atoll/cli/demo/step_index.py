"""Demo step: the index: background indexing, workspace symbols, outline, definition."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from atoll.cli.demo.session import DemoSession


async def _index_status(session: DemoSession) -> dict[str, Any]:
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="atoll.status", arguments=[])
    )
    index = result.get("index", {}) if isinstance(result, dict) else {}
    return dict(index) if isinstance(index, dict) else {}


async def index(session: DemoSession) -> None:
    """Wait for the background index, then ask for symbols the way an editor does."""
    status: dict[str, Any] = {}
    for _ in range(600):
        status = await _index_status(session)
        if status.get("state") in ("ready", "error"):
            break
        await asyncio.sleep(0.1)
    session.show_json("index (atoll.status)", status)
    found = await session.request(
        "workspace/symbol 'stock'",
        session.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="stock")),
    )
    session.show_json(
        "workspace symbols",
        [
            f"{s.name}  ({s.container_name or '-'})  {s.location.uri.rsplit('/', 2)[-1]}"
            for s in (found or [])
            if isinstance(s, types.WorkspaceSymbol | types.SymbolInformation)
        ],
    )
    uri = session.uri("inventory/models.py")
    outline = await session.request(
        "textDocument/documentSymbol models.py",
        session.client.text_document_document_symbol_async(
            types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
        ),
    )
    session.show_json("document symbols", [_tree(s) for s in outline or []])
    qml = session.uri("qml/Main.qml")
    text = (session.workspace / "qml/Main.qml").read_text().splitlines()
    line = next((i for i, t in enumerate(text) if "StockModel {" in t), 0)
    target = await session.request(
        "textDocument/definition (QML StockModel → Rust)",
        session.client.text_document_definition_async(
            types.DefinitionParams(types.TextDocumentIdentifier(qml), types.Position(line, 6))
        ),
    )
    where = [
        f"{t.uri.rsplit('/', 3)[-1]}:{t.range.start.line + 1}"
        for t in (target if isinstance(target, list) else [])
        if isinstance(t, types.Location)
    ]
    session.show_json("definition", where)


def _tree(symbol: Any) -> Any:
    children = getattr(symbol, "children", None) or []
    label = f"{symbol.name} ({types.SymbolKind(symbol.kind).name})"
    return {label: [_tree(c) for c in children]} if children else label
