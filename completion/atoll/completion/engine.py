"""The completion engine: a cursor in, a cleaned suggestion and its timings out.

Order of business for one request: the text around the cursor, bounded by characters →
type-ahead (the user typed the start of the suggestion on screen) → debounce
(automatic triggers) → cancel the document's older request → prompt (token windows in
blocks, index snippets, recent edits) → LRU cache → model (KV reused, prompt evaluated
in abortable batches, time budget) → post-process.

:meth:`CompletionEngine.warm` evaluates a cursor's prompt with no token generated, at
the lowest priority, so the request that follows pays only for what changed.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import Any, Unpack

from atoll.completion.cache import LruCache, TypeAhead, context_key
from atoll.completion.postprocess import CursorContext, block_ended, clean, wants_multiline
from atoll.completion.prompting import Cursor, PromptBuilder, Surroundings
from atoll.completion.results import CompletionRequest, CompletionResult, EngineStats
from atoll.completion.templates import FimTemplate
from atoll.config.schema import CompletionConfig
from atoll.models.types import Generation, ModelUnavailableError, Prompt, TextModel
from atoll.models.worker import CancelFlag, JobSkippedError

__all__ = ["CompletionEngine", "CompletionRequest", "CompletionResult", "EngineStats"]
log = logging.getLogger(__name__)
# A single-line suggestion rarely needs more; multi-line ones get max_tokens.
SINGLE_LINE_TOKENS = 32
# Per-request records kept for `atoll.status` (benchmarks read them).
HISTORY = 64
STOPPED = ("cancelled", "preempted")
# What a generation cost, as a request's record and result show it.
COSTS = ("prompt_tokens", "cached_tokens", "evaluated_tokens", "decode_tokens", "finish")


class CompletionEngine:
    """One per server (or CLI run). Safe to call concurrently from one event loop."""

    def __init__(
        self,
        model: TextModel,
        template: FimTemplate,
        config: CompletionConfig,
        **around: Unpack[Surroundings],
    ) -> None:
        self.model = model
        self.template = template
        self.config = config
        self.prompts = PromptBuilder(model.count_tokens, template, config, **around)
        self.cache = LruCache(config.cache_size)
        self.typeahead = TypeAhead()
        self.stats = EngineStats()
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._seq = itertools.count(1)
        self._generation: dict[str, int] = {}
        self._inflight: dict[str, CancelFlag] = {}
        self._warming: CancelFlag | None = None

    # -- the request ---------------------------------------------------------------

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Answer one request (see the module docstring for the order of business)."""
        t0 = time.perf_counter()
        # The budget covers the whole request: debounce and prompt building included.
        deadline = time.monotonic() + self.config.time_budget_ms / 1000
        timings: dict[str, float] = {}
        self.stats.requests += 1
        cursor = self.prompts.cursor(
            request.text, request.offset, request.selected_text, request.selected_start
        )
        ctx = cursor.context()
        multiline = wants_multiline(ctx, self.config.multiline)

        def result(body: str, source: str, **extra: Any) -> CompletionResult:
            timings["total"] = (time.perf_counter() - t0) * 1000
            self._record(source, timings, extra, request)
            return CompletionResult(
                text=body,
                source=source,
                start_offset=cursor.start,
                insert_text=(cursor.selected + body) if body else "",
                template=self.template.name,
                multiline=multiline,
                timings_ms={k: round(v, 3) for k, v in timings.items()},
                line_prefix=ctx.line_prefix,
                **extra,
            )

        # The user moved on: whatever this document's older request is doing is stale.
        self._stop_older(request.uri)
        here = (request.uri, cursor.offset, cursor.prefix, cursor.suffix)
        rest = self.typeahead.continuation(*here)
        if rest:
            self.stats.typeahead_hits += 1
            self.typeahead.remember(*here, rest)
            return result(rest, "typeahead")
        if not await self._my_turn(request, timings):
            self.stats.superseded += 1
            return result("", "superseded")

        t = time.perf_counter()
        prompt, files = await self._prompt(cursor, request.path)
        extra: dict[str, Any] = {"context_files": len(files), "prompt": prompt.text}
        prompt, max_tokens = self._bounded(prompt, ctx, multiline)
        key = context_key(self.template.name, prompt.text, str(max_tokens), str(multiline))
        timings["prompt_build"] = (time.perf_counter() - t) * 1000
        cached = self.cache.get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            self.typeahead.remember(*here, cached)
            return result(cached, "cache", **extra)

        g = await self._run_model(request, prompt, max_tokens, deadline)
        if isinstance(g, str):  # it never ran: "superseded" or "unavailable"
            return result("", g, **extra)
        timings.update(_model_timings(g))
        stats = {**{k: getattr(g, k) for k in COSTS}, **extra}
        if g.finish in STOPPED:
            self.stats.cancelled += 1
            self.stats.wasted_tokens += g.decode_tokens
            return result("", "cancelled", **stats)
        t = time.perf_counter()
        body = clean(g.text, ctx, multiline=multiline)
        timings["postprocess"] = (time.perf_counter() - t) * 1000
        if g.finish != "deadline":
            self.cache.put(key, body)
        self.typeahead.remember(*here, body)
        return result(body, "model" if body else "empty", **stats)

    def _bounded(self, prompt: Prompt, ctx: CursorContext, multiline: bool) -> tuple[Prompt, int]:
        """The prompt with where it stops (the block's end, or the line's), and how many
        tokens it may generate."""
        infill = prompt.infill and replace(prompt.infill, indent=len(ctx.indent))
        if multiline:
            done = functools.partial(block_ended, ctx=ctx)
            return replace(prompt, done=done, infill=infill), self.config.max_tokens
        bounded = replace(prompt, stop=(*prompt.stop, "\n"), infill=infill)
        return bounded, min(self.config.max_tokens, SINGLE_LINE_TOKENS)

    def _stop_older(self, uri: str) -> None:
        older = self._inflight.pop(uri, None)
        if older is not None:
            older.set()

    async def _my_turn(self, request: CompletionRequest, timings: dict[str, float]) -> bool:
        """Debounce an automatic request; False when a newer one came meanwhile."""
        generation = self._generation.get(request.uri, 0) + 1
        self._generation[request.uri] = generation
        if request.automatic and self.config.debounce_ms > 0:
            t = time.perf_counter()
            await asyncio.sleep(self.config.debounce_ms / 1000)
            timings["debounce"] = (time.perf_counter() - t) * 1000
            if self._generation.get(request.uri) != generation:
                return False
        self._stop_older(request.uri)
        return True

    async def _run_model(
        self, request: CompletionRequest, prompt: Prompt, max_tokens: int, deadline: float
    ) -> Generation | str:
        """One model call, counted; a str says why there was none."""
        cancel = CancelFlag()
        self._inflight[request.uri] = cancel
        self.stats.model_calls += 1
        call = asyncio.ensure_future(
            self.model.complete(prompt, max_tokens=max_tokens, cancel=cancel, deadline=deadline)
        )
        try:
            g = await asyncio.shield(call)
        except asyncio.CancelledError:
            # $/cancelRequest: stop the model now and account for the call when the
            # worker hands the partial result back.
            cancel.set()
            call.add_done_callback(lambda done: self._count_abandoned(done, request))
            raise
        except JobSkippedError:
            self.stats.model_calls -= 1  # never reached the model
            self.stats.skipped += 1
            return "superseded"
        except ModelUnavailableError as exc:
            self.stats.unavailable += 1
            log.debug("completion unavailable: %s", exc)
            return "unavailable"
        finally:
            if self._inflight.get(request.uri) is cancel:
                del self._inflight[request.uri]
        self.stats.count(g)
        return g

    def _count_abandoned(self, call: asyncio.Future[Any], request: CompletionRequest) -> None:
        if call.cancelled() or call.exception() is not None:
            self.stats.model_calls -= 1
            self.stats.skipped += 1
            return
        g = call.result()
        self._record("abandoned", _model_timings(g), vars(g), request)
        self.stats.cancelled += 1
        self.stats.count(g, wasted=True)

    def _record(
        self,
        source: str,
        timings: dict[str, float],
        extra: dict[str, Any],
        request: CompletionRequest,
    ) -> None:
        entry: dict[str, Any] = {"n": next(self._seq), "source": source}
        entry.update(offset=request.offset, chars=len(request.text))
        entry.update({k: extra[k] for k in COSTS if k in extra})
        entry["timings_ms"] = {k: round(v, 2) for k, v in timings.items()}
        self.history.append(entry)

    async def _prompt(self, cursor: Cursor, path: Path | None) -> tuple[Prompt, list[Any]]:
        if self.prompts.index() is None or self.config.context_tokens <= 0:
            return self.prompts.build(cursor, path)
        # The index may touch SQLite or embeddings: keep it off the event loop.
        return await asyncio.to_thread(self.prompts.build, cursor, path)

    # -- around requests -----------------------------------------------------------

    def build_prompt(self, text: str, offset: int, path: Path | None) -> Prompt:
        """The prompt a request at ``offset`` would send (benchmarks, the CLI)."""
        return self.prompts.at(text, offset, path)

    def note_edit(self, path: Path | None, text: str, offset: int) -> None:
        """The user edited ``text`` at ``offset``: other files' prompts may show it."""
        offset = max(0, min(offset, len(text)))
        self.prompts.note_edit(path, text, text.count("\n", 0, offset), offset)

    async def warm(self, uri: str, text: str, offset: int, path: Path | None) -> Generation | None:
        """Evaluate the prompt of a cursor at ``offset`` without generating: at the
        lowest priority, given up for any request (and for a newer warm-up)."""
        if self._warming is not None:
            self._warming.set()
        cancel = self._warming = CancelFlag()
        cursor = self.prompts.cursor(text, offset)
        try:
            prompt, _ = await self._prompt(cursor, path)
            g = await self.model.complete(prompt, max_tokens=0, cancel=cancel)
        except (JobSkippedError, ModelUnavailableError) as exc:
            log.debug("warming %s skipped: %s", uri, exc)
            return None
        finally:
            if self._warming is cancel:
                self._warming = None
        self.stats.warms += 1
        self.stats.warm_tokens += g.evaluated_tokens
        return g

    def forget(self, uri: str) -> None:
        """A document closed: drop its per-document state."""
        self.typeahead.forget(uri)
        self._generation.pop(uri, None)
        self._stop_older(uri)

    async def warmup(self) -> None:
        """A tiny prompt so the first real request does not pay for page faults."""
        prompt = self.template.render("def main():\n    ", "\n", path="warmup.py")
        deadline = time.monotonic() + self.config.time_budget_ms / 1000
        try:
            await self.model.complete(prompt, max_tokens=1, deadline=deadline)
        except ModelUnavailableError as exc:
            log.info("warm-up skipped: %s", exc)


def _model_timings(g: Generation) -> dict[str, float]:
    """Where a generation's time went, as a request's timings show it."""
    return {"queue": g.queue_ms, "prompt_eval": g.prompt_ms, "decode": g.decode_ms}
