"""Demo step: hover: the index's facts at once, the model's explanation on the next hover."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from atoll.cli.demo.session import DemoSession

FILE = "inventory/report.py"
NEEDLE = "format_cents(item.total_value"


def _text(result: types.Hover | None) -> str:
    if result is None:
        return "(no hover)"
    contents: Any = result.contents
    return str(contents.value) if isinstance(contents, types.MarkupContent) else str(contents)


async def _status(session: DemoSession, name: str) -> dict[str, Any]:
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="atoll.status", arguments=[])
    )
    section = result.get(name, {}) if isinstance(result, dict) else {}
    return dict(section) if isinstance(section, dict) else {}


async def hover(session: DemoSession) -> None:
    """Hover a symbol twice: facts instantly, then the cached explanation."""
    uri = session.open(FILE, "python")
    text = (session.workspace / FILE).read_text()
    offset = text.index(NEEDLE) + 3
    line = text.count("\n", 0, offset)
    position = types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))
    params = types.HoverParams(types.TextDocumentIdentifier(uri), position)

    for _ in range(600):  # the explanation needs the model: wait until it is loaded
        completion = await _status(session, "completion")
        if completion.get("ready") or completion.get("error") or not completion.get("enabled"):
            break
        await asyncio.sleep(0.1)
    first = await session.request(
        f"textDocument/hover {FILE}:{line + 1} (format_cents)",
        session.client.text_document_hover_async(params),
    )
    session.show("hover: the index's facts, at once", _text(first), lexer="markdown")

    state = await _status(session, "hover")
    for _ in range(300):  # the explanation is written in the background (time-budgeted)
        if not state.get("pending"):
            break
        await asyncio.sleep(0.1)
        state = await _status(session, "hover")
    second = await session.request(
        "textDocument/hover again (explanation from the cache)",
        session.client.text_document_hover_async(params),
    )
    session.show("hover: facts + explanation", _text(second), lexer="markdown")

    blank = types.Position(text.splitlines().index(""), 0)
    nothing = await session.request(
        "textDocument/hover on blank space",
        session.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), blank)
        ),
    )
    session.console.print(f"[dim]  → {_text(nothing)}[/]  hover status: {state}")
