"""Budgeted, cancellable, cached explanations: one model call per definition's content.

A hover never waits longer than its caller allows: :meth:`Explainer.ensure` starts the
model call as a task of its own (so it survives the hover request that asked for it),
:meth:`Explainer.wait` waits a bounded time for it, and the result lands in an LRU cache
keyed by the definition's content hash, so the next hover on that symbol is instant.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from atoll.explain.prompt import tidy
from atoll.explain.protocols import ChatModel

log = logging.getLogger(__name__)
# A failed or timed-out explanation is not retried on every hover.
RETRY_AFTER_S = 30.0


@dataclass
class _Flight:
    task: asyncio.Task[str | None]
    cancel: threading.Event


class Explainer:
    """Explanations by content hash: cached, in flight, or recently failed."""

    def __init__(self, chat: ChatModel | None, *, cache_size: int = 256) -> None:
        self.chat = chat
        self.cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self._failed: dict[str, float] = {}
        self.generated = 0
        self.timeouts = 0
        self.errors = 0

    def cached(self, key: str) -> str | None:
        """The explanation for ``key`` if one was written (and marks it recently used)."""
        text = self._cache.get(key)
        if text is not None:
            self._cache.move_to_end(key)
        return text

    def in_flight(self, key: str) -> bool:
        return key in self._flights

    def ensure(
        self, key: str, messages: list[dict[str, str]], *, max_tokens: int, budget_s: float
    ) -> bool:
        """Start explaining ``key`` unless it is cached, running or recently failed.

        Returns whether an explanation is (now) on its way.
        """
        if self.chat is None or key in self._cache:
            return False
        if key in self._flights:
            return True
        failed_at = self._failed.get(key)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
            return False
        cancel = threading.Event()
        task = asyncio.ensure_future(self._run(key, messages, max_tokens, budget_s, cancel))
        self._flights[key] = _Flight(task, cancel)
        task.add_done_callback(lambda _t: self._flights.pop(key, None))
        return True

    async def wait(self, key: str, timeout_s: float) -> str | None:
        """The explanation for ``key`` if it is ready within ``timeout_s``; never cancels it."""
        if (text := self.cached(key)) is not None:
            return text
        flight = self._flights.get(key)
        if flight is None or timeout_s <= 0:
            return None
        done, _ = await asyncio.wait({flight.task}, timeout=timeout_s)
        return self.cached(key) if done else None

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Stop every running explanation and wait (bounded) until their decodes return.

        Waiting matters at shutdown: the model must not be freed under a running decode.
        """
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel.set()
        if flights:
            await asyncio.wait({flight.task for flight in flights}, timeout=timeout_s)
        for flight in flights:
            flight.task.cancel()

    def status(self) -> dict[str, Any]:
        return {
            "available": self.chat is not None,
            "cached": len(self._cache),
            "pending": len(self._flights),
            "generated": self.generated,
            "timeouts": self.timeouts,
            "errors": self.errors,
        }

    async def _run(
        self,
        key: str,
        messages: list[dict[str, str]],
        max_tokens: int,
        budget_s: float,
        cancel: threading.Event,
    ) -> str | None:
        assert self.chat is not None
        start = time.perf_counter()
        try:
            raw = await asyncio.wait_for(
                self.chat.chat(messages, max_tokens=max_tokens, cancel=cancel), budget_s
            )
        except TimeoutError:
            cancel.set()  # the decode thread stops at its next token
            self.timeouts += 1
            self._failed[key] = time.monotonic()
            log.info("hover explanation dropped after its %.1f s budget", budget_s)
            return None
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:
            self.errors += 1
            self._failed[key] = time.monotonic()
            log.warning("hover explanation failed: %s", exc)
            return None
        if cancel.is_set():
            return None  # a cut-off answer is not worth caching
        text = tidy(raw)
        if not text:
            self._failed[key] = time.monotonic()
            return None
        self.generated += 1
        self._cache[key] = text
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        log.info("hover explanation written in %.0f ms", (time.perf_counter() - start) * 1000)
        return text
