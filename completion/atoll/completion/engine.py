"""The completion engine: a cursor in, a cleaned suggestion and its timings out.

Order of business for one request: type-ahead (the user typed the start of the
suggestion on screen) → debounce (automatic triggers) → cancel the document's older
request → prompt (token windows, index snippets, recent edits) → LRU cache → model
(one decode at a time, cancel checked between tokens, time budget) → post-process.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.completion.cache import LruCache, TypeAhead, context_key
from atoll.completion.context import (
    RecentEdits,
    SnippetFinder,
    TokenCounter,
    comment_mark,
    fit,
    prefix_window,
    suffix_window,
)
from atoll.completion.postprocess import CursorContext, block_ended, clean, wants_multiline
from atoll.completion.protocols import CodeIndex, ModelUnavailableError, Prompt, TextModel
from atoll.completion.templates import FimTemplate
from atoll.completion.worker import CancelFlag, JobSkippedError
from atoll.config.schema import CompletionConfig

log = logging.getLogger(__name__)
IndexProvider = Callable[[], CodeIndex | None]
# A single-line suggestion rarely needs more; multi-line ones get max_tokens.
SINGLE_LINE_TOKENS = 32
# Per-request records kept for `atoll.status` (benchmarks read them).
HISTORY = 64


@dataclass(frozen=True)
class CompletionRequest:
    """A cursor in a document (offsets in Python characters)."""

    uri: str
    text: str
    offset: int
    path: Path | None = None
    automatic: bool = False
    # selectedCompletionInfo: the popup item that replaces text[selected_start:offset].
    selected_text: str = ""
    selected_start: int | None = None


@dataclass
class CompletionResult:
    """What to show: insert ``insert_text`` over ``[start_offset, offset)``."""

    text: str  # the suggestion after the cursor ('' when there is none)
    source: str  # model, cache, typeahead, superseded, cancelled, unavailable, empty
    start_offset: int = 0
    insert_text: str = ""
    template: str = ""
    multiline: bool = False
    prompt_tokens: int = 0
    cached_tokens: int = 0
    decode_tokens: int = 0
    finish: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    prompt: str = ""
    line_prefix: str = ""  # the cursor line up to the cursor
    context_files: int = 0  # files whose snippets went into the prompt

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "prompt"}
        return data


@dataclass
class EngineStats:
    requests: int = 0
    model_calls: int = 0  # requests that reached the model (decoded at least a prompt)
    cache_hits: int = 0
    typeahead_hits: int = 0
    superseded: int = 0  # answered empty because a newer request came
    cancelled: int = 0  # decodes stopped mid-way
    skipped: int = 0  # cancelled before the model started them
    unavailable: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    decode_tokens: int = 0
    wasted_tokens: int = 0  # decoded for suggestions nobody saw

    @property
    def kv_reuse(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "kv_reuse": round(self.kv_reuse, 3)}


class CompletionEngine:
    """One per server (or CLI run). Safe to call concurrently from one event loop."""

    def __init__(
        self,
        model: TextModel,
        template: FimTemplate,
        config: CompletionConfig,
        *,
        root: Path | None = None,
        index: IndexProvider | None = None,
    ) -> None:
        self.model = model
        self.template = template
        self.config = config
        self.root = root
        self.index = index or (lambda: None)
        self.cache = LruCache(config.cache_size)
        self.typeahead = TypeAhead()
        self.recent = RecentEdits(config.recent_edits)
        self.snippets = SnippetFinder(root)
        self.count = TokenCounter(model.count_tokens)
        self.stats = EngineStats()
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._seq = itertools.count(1)
        self._generation: dict[str, int] = {}
        self._inflight: dict[str, threading.Event] = {}
        self._last_line: dict[str, int] = {}

    # -- prompt ------------------------------------------------------------------

    def build_prompt(
        self, prefix: str, suffix: str, path: Path | None, *, context: bool = True
    ) -> tuple[Prompt, list[Any]]:
        """The prompt for a cursor, and the snippets it carries."""
        cfg = self.config
        rel = self.snippets.relative(path)
        before = prefix_window(prefix, cfg.prefix_tokens, self.count)
        after = suffix_window(suffix, cfg.suffix_tokens, self.count) if self.template.fim else ""
        files: list[Any] = []
        if context and cfg.context_tokens > 0:
            cursor_line = prefix.count("\n")
            window_start = cursor_line - before.count("\n")
            above = before.split("\n")[:-1]
            found: list[Any] = []
            index = self.index()
            if index is not None:
                found = self.snippets.find(
                    index, rel, above, skip_lines=(window_start, cursor_line + 64)
                )
            found += self.recent.snippets(rel)
            files = fit(found, cfg.context_tokens, self.count)
        prompt = self.template.render(
            before,
            after,
            path=rel,
            context=files,
            repo=self.root.name if self.root else "",
            comment=comment_mark(rel),
        )
        return prompt, files

    # -- the request ---------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Answer one request (see the module docstring for the order of business)."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        self.stats.requests += 1
        text = request.text
        offset = max(0, min(request.offset, len(text)))
        start = offset
        prefix = text[:offset]
        if request.selected_start is not None and request.selected_text:
            start = max(0, min(request.selected_start, offset))
            prefix = text[:start] + request.selected_text
        suffix = text[offset:]
        ctx = CursorContext.from_text(prefix[-4096:], suffix[:4096])
        multiline = wants_multiline(ctx, self.config.multiline)
        selected = request.selected_text if request.selected_start is not None else ""

        def result(body: str, source: str, **extra: Any) -> CompletionResult:
            timings["total"] = (time.perf_counter() - t0) * 1000
            self._record(source, timings, extra, request)
            return CompletionResult(
                text=body,
                source=source,
                start_offset=start,
                insert_text=(selected + body) if body else "",
                template=self.template.name,
                multiline=multiline,
                timings_ms={k: round(v, 3) for k, v in timings.items()},
                line_prefix=ctx.line_prefix,
                **extra,
            )

        # The user moved on: whatever this document's older request is decoding is stale.
        older = self._inflight.pop(request.uri, None)
        if older is not None:
            older.set()

        # 1. Type-ahead: the user typed the start of what is on screen.
        rest = self.typeahead.continuation(request.uri, prefix, suffix)
        if rest:
            self.stats.typeahead_hits += 1
            self.typeahead.remember(request.uri, prefix, suffix, rest)
            return result(rest, "typeahead")

        # 2. Debounce, then the newest request for the document wins.
        generation = self._generation.get(request.uri, 0) + 1
        self._generation[request.uri] = generation
        if request.automatic and self.config.debounce_ms > 0:
            t = time.perf_counter()
            await asyncio.sleep(self.config.debounce_ms / 1000)
            timings["debounce"] = (time.perf_counter() - t) * 1000
            if self._generation.get(request.uri) != generation:
                self.stats.superseded += 1
                return result("", "superseded")
        older = self._inflight.pop(request.uri, None)
        if older is not None:
            older.set()

        # 3. The prompt, and the cache.
        t = time.perf_counter()
        prompt, files = await self._prompt(request, prefix, suffix)
        extra: dict[str, Any] = {"context_files": len(files), "prompt": prompt.text}
        if not multiline:
            prompt = Prompt(prompt.segments, (*prompt.stop, "\n"))
        else:
            prompt = Prompt(prompt.segments, prompt.stop, lambda text: block_ended(text, ctx))
        max_tokens = (
            self.config.max_tokens if multiline else min(self.config.max_tokens, SINGLE_LINE_TOKENS)
        )
        key = context_key(self.template.name, prompt.text, str(max_tokens), str(multiline))
        timings["prompt_build"] = (time.perf_counter() - t) * 1000
        cached = self.cache.get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            self.typeahead.remember(request.uri, prefix, suffix, cached)
            return result(cached, "cache", **extra)

        # 4. The model.
        cancel = CancelFlag()
        self._inflight[request.uri] = cancel
        deadline = time.monotonic() + self.config.time_budget_ms / 1000
        self.stats.model_calls += 1
        call = asyncio.ensure_future(
            self.model.complete(prompt, max_tokens=max_tokens, cancel=cancel, deadline=deadline)
        )
        try:
            generation_result = await asyncio.shield(call)
        except asyncio.CancelledError:
            # $/cancelRequest: stop the decode at the next token and account for it
            # when the worker hands the partial result back.
            cancel.set()
            call.add_done_callback(lambda done: self._count_abandoned(done, request))
            raise
        except JobSkippedError:
            self.stats.model_calls -= 1  # never reached the model
            self.stats.skipped += 1
            return result("", "superseded", **extra)
        except ModelUnavailableError as exc:
            self.stats.unavailable += 1
            log.debug("completion unavailable: %s", exc)
            return result("", "unavailable", **extra)
        finally:
            if self._inflight.get(request.uri) is cancel:
                del self._inflight[request.uri]
        g = generation_result
        self.stats.prompt_tokens += g.prompt_tokens
        self.stats.cached_tokens += g.cached_tokens
        self.stats.decode_tokens += g.decode_tokens
        timings.update(queue=g.queue_ms, prompt_eval=g.prompt_ms, decode=g.decode_ms)
        stats = {
            "prompt_tokens": g.prompt_tokens,
            "cached_tokens": g.cached_tokens,
            "decode_tokens": g.decode_tokens,
            "finish": g.finish,
            **extra,
        }
        if g.finish == "cancelled":
            self.stats.cancelled += 1
            self.stats.wasted_tokens += g.decode_tokens
            return result("", "cancelled", **stats)

        # 5. Post-processing.
        t = time.perf_counter()
        body = clean(g.text, ctx, multiline=multiline)
        timings["postprocess"] = (time.perf_counter() - t) * 1000
        if g.finish != "deadline":
            self.cache.put(key, body)
        self.typeahead.remember(request.uri, prefix, suffix, body)
        return result(body, "model" if body else "empty", **stats)

    def _count_abandoned(self, call: asyncio.Future[Any], request: CompletionRequest) -> None:
        if call.cancelled() or call.exception() is not None:
            self.stats.model_calls -= 1
            self.stats.skipped += 1
            return
        g = call.result()
        timings = {"queue": g.queue_ms, "prompt_eval": g.prompt_ms, "decode": g.decode_ms}
        self._record("abandoned", timings, vars(g), request)
        self.stats.cancelled += 1
        self.stats.prompt_tokens += g.prompt_tokens
        self.stats.cached_tokens += g.cached_tokens
        self.stats.decode_tokens += g.decode_tokens
        self.stats.wasted_tokens += g.decode_tokens

    def _record(
        self,
        source: str,
        timings: dict[str, float],
        extra: dict[str, Any],
        request: CompletionRequest,
    ) -> None:
        keep = ("prompt_tokens", "cached_tokens", "decode_tokens", "finish")
        entry: dict[str, Any] = {"n": next(self._seq), "source": source}
        entry.update(offset=request.offset, chars=len(request.text))
        entry.update({k: extra[k] for k in keep if k in extra})
        entry["timings_ms"] = {k: round(v, 2) for k, v in timings.items()}
        self.history.append(entry)

    async def _prompt(
        self, request: CompletionRequest, prefix: str, suffix: str
    ) -> tuple[Prompt, list[Any]]:
        rel = self.snippets.relative(request.path)
        line = prefix.count("\n")
        if self._last_line.get(request.uri) != line and rel:
            self._last_line[request.uri] = line
            self.recent.record(rel, request.text, line)
        index = self.index()
        if index is None or self.config.context_tokens <= 0:
            return self.build_prompt(prefix, suffix, request.path)
        # The index may touch SQLite or embeddings: keep it off the event loop.
        return await asyncio.to_thread(self.build_prompt, prefix, suffix, request.path)

    def forget(self, uri: str) -> None:
        """A document closed: drop its per-document state."""
        self.typeahead.forget(uri)
        self._generation.pop(uri, None)
        self._last_line.pop(uri, None)
        cancel = self._inflight.pop(uri, None)
        if cancel is not None:
            cancel.set()

    async def warmup(self) -> None:
        """One tiny decode so the first real request does not pay for page faults."""
        prompt = self.template.render("def main():\n    ", "\n", path="warmup.py")
        try:
            await self.model.complete(prompt, max_tokens=1)
        except ModelUnavailableError as exc:
            log.info("warm-up skipped: %s", exc)
