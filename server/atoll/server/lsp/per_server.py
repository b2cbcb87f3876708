"""State a feature keeps per server, so its handlers can be module-level functions.

A handler receives the server (``ls``) and looks its feature's state up here instead
of closing over it inside ``register()``; a test builds a server and calls the handler.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from pygls.lsp.server import LanguageServer

T = TypeVar("T")


class PerServer(Generic[T]):
    """``slot(server)`` is the server's one ``T``, made by ``factory`` on first use."""

    def __init__(self, factory: Callable[[LanguageServer], T]) -> None:
        self._factory = factory
        self._items: weakref.WeakKeyDictionary[LanguageServer, T] = weakref.WeakKeyDictionary()

    def __call__(self, server: LanguageServer) -> T:
        item = self._items.get(server)
        if item is None:
            item = self._items[server] = self._factory(server)
        return item

    def get(self, server: LanguageServer) -> T | None:
        """The server's ``T`` if it has one already (never makes one)."""
        return self._items.get(server)
