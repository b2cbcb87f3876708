"""Demo step: inline completion from the local model, then type-ahead without a model call."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from atoll.cli.demo.session import DemoSession

FILE = "inventory/models.py"
TYPED = "\n    def count(self) -> int:\n        return len(self."


async def _completion_status(session: DemoSession) -> dict[str, Any]:
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="atoll.status", arguments=[])
    )
    section = result.get("completion", {}) if isinstance(result, dict) else {}
    return dict(section) if isinstance(section, dict) else {}


def inline_params(
    uri: str,
    position: types.Position,
    trigger: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Automatic,
) -> types.InlineCompletionParams:
    """An inline completion request as an editor sends it (typing: ``Automatic``)."""
    context = types.InlineCompletionContext(trigger_kind=trigger)
    document = types.TextDocumentIdentifier(uri)
    return types.InlineCompletionParams(context=context, text_document=document, position=position)


def _first(result: Any) -> str:
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return str(items[0].insert_text) if items else ""


async def completion(session: DemoSession) -> None:
    """Type a new method and ask for the rest of the line, as an editor does."""
    uri = session.open(FILE, "python")
    text = (session.workspace / FILE).read_text()
    edited = text.rstrip("\n") + "\n" + TYPED
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    lines = edited.split("\n")
    position = types.Position(len(lines) - 1, len(lines[-1]))
    for _ in range(600):  # the model loads in the background after `initialized`
        state = await _completion_status(session)
        if state.get("ready") or state.get("error") or not state.get("enabled"):
            break
        await asyncio.sleep(0.1)
    if state.get("error"):
        session.show("inline completion is off", str(state["error"]))
        return
    result = await session.request(
        f"textDocument/inlineCompletion {FILE}:{position.line + 1}",
        session.client.text_document_inline_completion_async(inline_params(uri, position)),
    )
    suggestion = _first(result)
    session.show(
        f"inline completion ({state.get('model')}, {state.get('template')} prompt)",
        "\n".join(lines[-2:]) + "⟨" + (suggestion or "no suggestion") + "⟩",
        lexer="python",
    )
    if len(suggestion) > 1:
        # Type the first character of the suggestion: the rest comes back without the model.
        typed = edited + suggestion[0]
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=3, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text=typed)],
            )
        )
        after = types.Position(position.line, position.character + 1)
        rest = await session.request(
            "textDocument/inlineCompletion after typing one character (type-ahead)",
            session.client.text_document_inline_completion_async(inline_params(uri, after)),
        )
        session.show("type-ahead: the rest of the same suggestion", _first(rest) or "(none)")
    stats = (await _completion_status(session)).get("stats", {})
    keep = ("requests", "model_calls", "typeahead_hits", "cache_hits", "prompt_tokens")
    session.show_json("completion stats", {k: stats.get(k) for k in (*keep, "kv_reuse")})
