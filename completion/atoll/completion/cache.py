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

    prefix: str
    suffix: str
    text: str


class TypeAhead:
    """Remembers the last suggestion per document and continues it while it matches."""

    def __init__(self) -> None:
        self._shown: dict[str, Shown] = {}
        self.hits = 0

    def remember(self, uri: str, prefix: str, suffix: str, text: str) -> None:
        if text:
            self._shown[uri] = Shown(prefix, suffix, text)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def continuation(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The rest of the shown suggestion if the user typed its beginning."""
        shown = self._shown.get(uri)
        if shown is None or suffix != shown.suffix or len(prefix) < len(shown.prefix):
            return None
        typed_len = len(prefix) - len(shown.prefix)
        if typed_len >= len(shown.text):
            return None
        # Compare only the typed part and the text right before it: cheap on big files.
        if prefix[len(shown.prefix) :] != shown.text[:typed_len]:
            return None
        tail = min(len(shown.prefix), 256)
        if tail and prefix[len(shown.prefix) - tail : len(shown.prefix)] != shown.prefix[-tail:]:
            return None
        self.hits += 1
        return shown.text[typed_len:]
