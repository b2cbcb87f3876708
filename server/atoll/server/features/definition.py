"""``textDocument/definition`` by symbol lookup: the word at the cursor, found in the index.

For languages without a better source (e.g. a QML type defined by a Rust ``#[qobject]``),
definitions in the same language and file come first.
"""

from __future__ import annotations

import asyncio
import re

from lsprotocol import types

from atoll import languages
from atoll.indexing import Symbol
from atoll.server.app import AtollServer
from atoll.server.documents import DocumentError, cursor_at
from atoll.server.features._symbol_convert import location

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def word_at(line: str, column: int) -> tuple[str, str]:
    """The identifier at ``column`` and the dotted qualifier before it (``a.b.|c`` → c, a.b)."""
    for m in _IDENT.finditer(line):
        if m.start() <= column <= m.end():
            before = line[: m.start()]
            qual = re.search(r"([A-Za-z_][\w.]*)\.$", before)
            return m.group(0), qual.group(1) if qual else ""
    return "", ""


def rank(found: list[Symbol], language: str, path: str) -> list[Symbol]:
    return sorted(found, key=lambda s: (str(s.path) != path, s.language != language))


async def definition(
    ls: AtollServer, params: types.DefinitionParams
) -> list[types.Location] | None:
    """Where the word at the cursor is defined, by name in the index (the same file and
    language first)."""
    index = await ls.opened_index()
    if index is None:
        return None
    try:
        cursor = cursor_at(ls, params.text_document.uri, params.position)
    except DocumentError:
        return None
    line = cursor.text.split("\n")[cursor.line] if cursor.text else ""
    column = cursor.offset - (cursor.text.rfind("\n", 0, cursor.offset) + 1)
    word, _ = word_at(line, column)
    if not word:
        return None
    found = await asyncio.to_thread(index.definitions, word)
    if not found:
        return None
    language = languages.for_path(cursor.path).name if cursor.path else ""
    ordered = rank(found, language, str(cursor.path))
    return [location(s) for s in ordered[:20]]


def register(server: AtollServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DEFINITION)(
        server.guarded("textDocument/definition", default=None)(definition)
    )
