"""Answers without a model call: an LRU cache by context, and type-ahead reuse.

Type-ahead: when the user types the first characters of the suggestion on screen,
the rest of that suggestion is still right, so it is answered at once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


def context_key(*parts: str) -> str:
    """A short digest of everything that decides a suggestion."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


class LruCache:
    """Suggestions by context key, least recently used out first."""

    def __init__(self, size: int = 256) -> None:
        self.size = max(0, size)
        self._items: OrderedDict[str, str] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: str, value: str) -> None:
        if self.size == 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class Shown:
    """The last suggestion offered in a document, with where it was offered."""

    offset: int  # the cursor (absolute, in characters)
    tail: str  # the text just before the cursor
    suffix: str  # the text after it (bounded)
    text: str


class TypeAhead:
    """Remembers the last suggestion per document and continues it while it matches."""

    TAIL = 256  # characters before the cursor that must still be the same

    def __init__(self) -> None:
        self._shown: dict[str, Shown] = {}
        self.hits = 0

    def remember(self, uri: str, offset: int, prefix: str, suffix: str, text: str) -> None:
        """``prefix`` ends at the cursor ``offset``; ``suffix`` starts there."""
        if text:
            self._shown[uri] = Shown(offset, prefix[-self.TAIL :], suffix, text)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def continuation(self, uri: str, offset: int, prefix: str, suffix: str) -> str | None:
        """The rest of the shown suggestion if the user typed its beginning."""
        shown = self._shown.get(uri)
        if shown is None or suffix != shown.suffix or offset < shown.offset:
            return None
        typed_len = offset - shown.offset
        if typed_len >= len(shown.text) or typed_len > len(prefix):
            return None
        typed = prefix[len(prefix) - typed_len :]
        if typed != shown.text[:typed_len]:
            return None
        before = prefix[: len(prefix) - typed_len]
        need = min(len(before), len(shown.tail))
        if need and before[-need:] != shown.tail[-need:]:
            return None
        self.hits += 1
        return shown.text[typed_len:]
