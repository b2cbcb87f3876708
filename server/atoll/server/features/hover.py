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
from pathlib import Path
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
from atoll.server.documents import DocumentError, cursor_at, open_buffers, open_document

log = logging.getLogger(__name__)


def _read_text(buffers: dict[Path, str]) -> Any:
    def read(path: Path) -> str | None:
        if path in buffers:
            return buffers[path]
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return read


def _wants_markdown(server: AtollServer) -> bool:
    caps = server.client_capabilities.text_document
    formats = caps.hover.content_format if caps and caps.hover else None
    return not formats or types.MarkupKind.Markdown in formats


def _character(line: str, index: int, encoding: object) -> int:
    """A Python string index on ``line`` as an LSP character in the negotiated encoding."""
    head = line[:index]
    if encoding == types.PositionEncodingKind.Utf32:
        return len(head)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(head.encode("utf-8", "surrogatepass"))
    return len(head.encode("utf-16-le", "surrogatepass")) // 2


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
        buffers = open_buffers(server)
        facts = await asyncio.to_thread(
            build_facts,
            index,
            target.name,
            here=cursor.path,
            language=language,
            read_text=_read_text(buffers),
        )
        if facts is None:
            return None
        explanation, pending = await self._explanation(index, facts)
        render = render_markdown if _wants_markdown(server) else render_plain
        text = render(facts, root=server.root, explanation=explanation, pending=pending)
        kind = (
            types.MarkupKind.Markdown if render is render_markdown else types.MarkupKind.PlainText
        )
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value=text),
            range=self._range(cursor.text, target.start, target.end),
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

    def _range(self, text: str, start: int, end: int) -> types.Range:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        number = text.count("\n", 0, start)
        encoding = self.server.workspace.position_encoding
        return types.Range(
            types.Position(number, _character(line, start - line_start, encoding)),
            types.Position(number, _character(line, end - line_start, encoding)),
        )


def register(server: AtollServer) -> None:
    feature = HoverFeature(server)
    server.status_providers["hover"] = feature.status
    server.on_shutdown.append(feature.close)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @server.guarded("hover", default=None)
    async def hover(ls: AtollServer, params: types.HoverParams) -> types.Hover | None:
        return await feature.hover(params)
