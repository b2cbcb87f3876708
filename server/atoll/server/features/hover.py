"""``textDocument/hover``: the index's facts at once, a model's explanation when it has one.

LSP gives a hover one response, so the two parts are split in time: the first hover on a
symbol answers immediately with what the index knows (signature, docstring, definition,
reference count) and starts the explanation in the background, within
``hover.time_budget_ms``; it lands in a cache keyed by the definition's content hash, and
the next hover on that symbol shows it instantly. ``hover.wait_ms`` lets a hover wait a
little for a fresh explanation (0, the default: never). Editing the definition changes
its hash, so a stale explanation is never shown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from lsprotocol import types

from atoll.explain import (
    ChatModel,
    Explainer,
    HoverFacts,
    SymbolSource,
    build_facts,
    call_sites,
    explain_messages,
    find_target,
    language_for,
    render_markdown,
    render_plain,
)
from atoll.server.app import AtollServer
from atoll.server.documents import DocumentError, cursor_at, open_document, open_texts
from atoll.server.lsp import capabilities, positions
from atoll.server.lsp.per_server import PerServer

log = logging.getLogger(__name__)


class HoverFeature:
    """The explainer and the glue between the index, the model and LSP."""

    def __init__(self, server: AtollServer) -> None:
        self.server = server
        self.explainer = Explainer(None)

    def status(self) -> dict[str, Any]:
        self.explainer.chat = self._chat()
        return self.explainer.status()

    async def close(self) -> None:
        await self.explainer.aclose()

    async def _index(self) -> SymbolSource | None:
        return cast(SymbolSource | None, await self.server.opened_index())

    def _chat(self) -> ChatModel | None:
        if not self.server.config.hover.explain:
            return None
        return cast(ChatModel | None, getattr(self.server, "llm", None))

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        server = self.server
        uri = params.text_document.uri
        try:
            cursor = cursor_at(server, uri, params.position)
        except DocumentError as exc:
            log.debug("hover: %s", exc)
            return None
        doc = open_document(server, uri)
        language = language_for(cursor.path, doc.language_id if doc else None)
        target = find_target(cursor.text, cursor.offset, language)
        if target is None:
            return None
        index = await self._index()
        if index is None:
            return None
        facts = await asyncio.to_thread(
            build_facts,
            index,
            target.name,
            here=cursor.path,
            language=language,
            read_text=open_texts(server).get,
        )
        if facts is None:
            return None
        explanation, pending = await self._explanation(index, facts)
        markdown = capabilities.hover_markdown(server.client_capabilities)
        render = render_markdown if markdown else render_plain
        text = render(facts, root=server.root, explanation=explanation, pending=pending)
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        encoding = positions.encoding_of(server)
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value=text),
            range=positions.range_at(cursor.text, target.start, target.end, encoding),
        )

    async def _explanation(self, index: SymbolSource, facts: HoverFacts) -> tuple[str | None, bool]:
        """(explanation, whether one is on its way)."""
        config = self.server.config.hover
        self.explainer.chat = self._chat()
        if (text := self.explainer.cached(facts.content_hash)) is not None:
            return text, False
        if self.explainer.chat is None:
            return None, False
        if not self.explainer.in_flight(facts.content_hash):
            sites = await asyncio.to_thread(call_sites, index, facts, limit=config.call_sites)
            messages = explain_messages(facts, sites, root=self.server.root)
            started = self.explainer.ensure(
                facts.content_hash,
                messages,
                max_tokens=config.max_tokens,
                budget_s=config.time_budget_ms / 1000,
            )
            if not started:
                return None, False
        text = await self.explainer.wait(facts.content_hash, config.wait_ms / 1000)
        return text, text is None


FEATURES = PerServer(lambda server: HoverFeature(cast(AtollServer, server)))


async def hover(ls: AtollServer, params: types.HoverParams) -> types.Hover | None:
    """The index's facts about the symbol at the cursor, and the model's explanation
    once there is one."""
    return await FEATURES(ls).hover(params)


def register(server: AtollServer) -> None:
    feature = FEATURES(server)
    server.status_providers["hover"] = feature.status
    server.on_shutdown.append(feature.close)
    server.feature(types.TEXT_DOCUMENT_HOVER)(server.guarded("hover", default=None)(hover))
