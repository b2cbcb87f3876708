"""``textDocument/completion``: the inline suggestion as one snippet item.

For editors without inline completion (Neovim's built-in client, older VS Code).
``completion.completion_item``: "auto" serves it only to clients that did not
announce inline completion, "on" to everyone, "off" to no one.
"""

from __future__ import annotations

import re

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.features.inline_completion import SERVICES, complete_at
from atoll.server.lsp import capabilities

_WORD = re.compile(r"[A-Za-z0-9_]*$")
LABEL_CHARS = 60


def wants_items(server: AtollServer) -> bool:
    setting = server.config.completion.completion_item
    if setting != "auto":
        return setting == "on"
    return not capabilities.inline_completion(server.client_capabilities)


def snippet_escape(text: str) -> str:
    """Plain text as a snippet body (``$``, ``}`` and ``\\`` are syntax there)."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def suggestion_item(word: str, suggestion: str, edit_range: types.Range) -> types.CompletionItem:
    """One item that replaces the word before the cursor with word + suggestion."""
    first = suggestion.split("\n", 1)[0]
    label = (word + first).strip() or first.strip() or "…"
    if len(label) > LABEL_CHARS:
        label = label[: LABEL_CHARS - 1] + "…"
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail="atoll: model suggestion",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```\n{word + suggestion}\n```"
        ),
        filter_text=word + first,
        sort_text="0",
        preselect=True,
        insert_text_format=types.InsertTextFormat.Snippet,
        text_edit=types.TextEdit(
            range=edit_range, new_text=snippet_escape(word + suggestion) + "$0"
        ),
    )


async def completion(ls: AtollServer, params: types.CompletionParams) -> types.CompletionList:
    """The suggestion as one item replacing the word before the cursor (empty when the
    client takes inline completions instead, or completion is off)."""
    if SERVICES.get(ls) is None or not wants_items(ls) or not ls.config.completion.enabled:
        return types.CompletionList(is_incomplete=False, items=[])
    invoked = (
        params.context is not None
        and params.context.trigger_kind == types.CompletionTriggerKind.Invoked
    )
    result, position = await complete_at(
        ls, params.text_document.uri, params.position, automatic=not invoked
    )
    if result is None or not result.text:
        return types.CompletionList(is_incomplete=True, items=[])
    word = _WORD.search(result.line_prefix)
    typed = word.group(0) if word else ""
    start = types.Position(position.line, max(0, position.character - len(typed)))
    item = suggestion_item(typed, result.text, types.Range(start, position))
    return types.CompletionList(is_incomplete=True, items=[item])


def register(server: AtollServer) -> None:
    options = types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False)
    server.feature(types.TEXT_DOCUMENT_COMPLETION, options)(
        server.guarded("completion", default=None)(completion)
    )
