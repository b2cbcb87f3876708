"""Inline completion: server overhead, instant answers, typing simulation, infilling quality.

- overhead: LSP round trip of ``textDocument/inlineCompletion`` minus the model's own
  time for the same request (the server's reported queue + prompt + decode), and
  minus a direct in-process backend call on the same prompt (p50/p95).
- instant: type-ahead and LRU-cache answers end to end (no model call).
- typing: a keystroke sequence replayed through LSP at typing speed, with the
  client's ``$/cancelRequest`` for answers that come too late; counts model calls,
  tokens decoded for suggestions nobody saw, and the KV-cache reuse ratio.
- quality: HumanEval canonical solutions with one line removed, filled by the engine
  (exact match, edit similarity), without and with index context.

``--model PATH.gguf`` / ``--endpoint URL`` benchmark a real model instead of the demo one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import time
from pathlib import Path
from typing import Any

from atoll.bench._session import completion_status, first_item, settings, start_server
from atoll.bench.harness import REPO, BenchContext, Suite, chart, percentiles
from atoll.bench.humaneval import quality
from atoll.bench.lspdriver import LspError, LspProcess

SAMPLE = REPO / "samples" / "workspace" / "inventory" / "models.py"
KEYSTROKE_S = 0.09  # ~110 characters a minute... per key; a steady typist
# This suite's servers: no debounce, a generous time budget (unless a part says otherwise).
DEFAULTS = {"time_budget_ms": 30000, "debounce_ms": 0}


def _settings(ctx: BenchContext, **completion: Any) -> dict[str, Any]:
    """Editor settings for the in-process engine: the model under test among them."""
    editor = settings(**{**DEFAULTS, **completion})
    if ctx.model:
        editor["models"] = {"gguf": ctx.model}
    if ctx.endpoint:
        editor["completion"]["endpoint"] = {"base_url": ctx.endpoint}
    return editor


async def _server(ctx: BenchContext, root: Path, **completion: Any) -> LspProcess:
    return await start_server(ctx, root, **{**DEFAULTS, **completion})


def _open(lsp: LspProcess, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    lsp.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}},
    )
    return uri


def _change(lsp: LspProcess, uri: str, text: str, version: int) -> None:
    lsp.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )


def _inline(uri: str, line: int, col: int, automatic: bool = False) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": col},
        "context": {"triggerKind": 2 if automatic else 1},
    }


def _cursors(text: str, n: int) -> list[tuple[int, int]]:
    """``n`` cursor positions at the ends of non-blank lines (distinct prompts)."""
    lines = text.split("\n")
    ends = [(i, len(ln)) for i, ln in enumerate(lines) if ln.strip() and i > 4]
    step = max(1, len(ends) // n)
    return ends[::step][:n]


# -- overhead and instant answers ------------------------------------------------------


async def overhead(ctx: BenchContext, root: Path, n: int) -> dict[str, Any]:
    from atoll.completion.engine import CompletionEngine
    from atoll.completion.factory import create_backend
    from atoll.config import load_config
    from atoll.models.types import Prompt

    text = SAMPLE.read_text()
    target = root / "models.py"
    # A second instance of the same backend in this process: each LSP request is
    # followed by the same prompt sent to it directly, under the same machine load.
    config = load_config(root, editor=_settings(ctx, max_tokens=8, multiline="never")).config
    backend = create_backend(config)
    engine = CompletionEngine(backend.model, backend.template, config.completion, root=root)
    await engine.warmup()
    lsp = await _server(ctx, root, max_tokens=8, cache_size=0, multiline="never")
    uri = _open(lsp, target, text)
    rtt: list[float] = []
    model_ms: list[float] = []
    server_overhead: list[float] = []
    direct: list[float] = []
    try:
        for line, col in _cursors(text, n):
            start = time.perf_counter()
            await lsp.request("textDocument/inlineCompletion", _inline(uri, line, col))
            elapsed = (time.perf_counter() - start) * 1000
            last = (await completion_status(lsp)).get("last", {})
            t = last.get("timings_ms", {})
            inside = t.get("queue", 0.0) + t.get("prompt_eval", 0.0) + t.get("decode", 0.0)
            rtt.append(elapsed)
            model_ms.append(inside)
            server_overhead.append(elapsed - inside)
            offset = sum(len(x) + 1 for x in text.split("\n")[:line]) + col
            prompt = engine.build_prompt(text, offset, target)
            prompt = Prompt(prompt.segments, (*prompt.stop, "\n"))  # single-line, as served
            start = time.perf_counter()
            await backend.model.complete(prompt, max_tokens=8)
            direct.append((time.perf_counter() - start) * 1000)
        typeahead_ms = await _typeahead_ms(lsp, uri, text, n)
        stats = (await completion_status(lsp)).get("stats", {})
    finally:
        await lsp.close()

    backend.model.close()
    cache_ms, cache_stats = await _cache_hit_ms(ctx, root, target, text)
    pairs = min(len(rtt), len(direct))
    minus_direct = [rtt[i] - direct[i] for i in range(pairs)]
    return {
        "requests": len(rtt),
        "round_trip_ms": percentiles(rtt),
        "model_ms_in_server": percentiles(model_ms),
        "overhead_ms": percentiles(server_overhead),
        "direct_backend_ms": percentiles(direct),
        "round_trip_minus_direct_ms": percentiles(minus_direct),
        "typeahead_ms": percentiles(typeahead_ms),
        "cache_hit_ms": percentiles(cache_ms),
        "typeahead_hits": stats.get("typeahead_hits", 0),
        "cache_hits": cache_stats.get("cache_hits", 0),
        "targets": {"overhead_p50_ms": 5.0, "instant_p50_ms": 2.0},
        "charts": [
            chart("LSP overhead per request", "hist", {"overhead ms": server_overhead}),
        ],
    }


async def _typeahead_ms(lsp: LspProcess, uri: str, text: str, n: int) -> list[float]:
    """Instant answers: type-ahead. Cut a line in half, take the suggestion, type its
    first character: the rest must come back without the model."""
    typeahead_ms: list[float] = []
    lines = text.split("\n")
    version = 2
    for line, col in _cursors(text, 3 * n):
        half = lines[line][: max(len(lines[line]) - len(lines[line].lstrip()) + 1, col // 2)]
        cut = [*lines[:line], half, *lines[line + 1 :]]
        version += 1
        _change(lsp, uri, "\n".join(cut), version)
        shown = first_item(
            await lsp.request("textDocument/inlineCompletion", _inline(uri, line, len(half)))
        )
        if len(shown) < 2:
            continue
        cut[line] = half + shown[0]
        version += 1
        _change(lsp, uri, "\n".join(cut), version)
        start = time.perf_counter()
        await lsp.request("textDocument/inlineCompletion", _inline(uri, line, len(half) + 1))
        typeahead_ms.append((time.perf_counter() - start) * 1000)
        if len(typeahead_ms) >= 10:
            break
    return typeahead_ms


async def _cache_hit_ms(
    ctx: BenchContext, root: Path, target: Path, text: str
) -> tuple[list[float], dict[str, Any]]:
    """Cache hits, end to end: a server with the cache on, each request asked twice
    with another in between (so type-ahead does not answer it)."""
    cache_ms: list[float] = []
    lsp = await _server(ctx, root, max_tokens=8, multiline="never")
    uri = _open(lsp, target, text)
    try:
        for a, b in itertools.pairwise(_cursors(text, 6)):
            await lsp.request("textDocument/inlineCompletion", _inline(uri, *a))
            await lsp.request("textDocument/inlineCompletion", _inline(uri, *b))
            start = time.perf_counter()
            await lsp.request("textDocument/inlineCompletion", _inline(uri, *a))
            cache_ms.append((time.perf_counter() - start) * 1000)
        return cache_ms, (await completion_status(lsp)).get("stats", {})
    finally:
        await lsp.close()


# -- typing simulation -----------------------------------------------------------------


async def typing(ctx: BenchContext, root: Path, keystrokes: int) -> dict[str, Any]:
    """Type a new method character by character, as an editor with inline completion."""
    base = SAMPLE.read_text().rstrip("\n") + "\n\n"
    body = (
        "    def count(self) -> int:\n"
        '        """How many distinct items are stocked."""\n'
        "        return len(self.items)\n"
    )[:keystrokes]
    lsp = await _server(ctx, root, debounce_ms=60)
    uri = _open(lsp, root / "models.py", base)
    before = (await completion_status(lsp)).get("stats", {})
    pending: tuple[int, Any] | None = None
    shown = late = 0
    try:
        for i in range(1, len(body) + 1):
            text = base + body[:i]
            _change(lsp, uri, text, i + 1)
            if pending is not None and not pending[1].done():
                lsp.cancel(pending[0])  # the editor cancels what it no longer needs
                late += 1
            lines = text.split("\n")
            pending = lsp.send(
                "textDocument/inlineCompletion",
                _inline(uri, len(lines) - 1, len(lines[-1]), automatic=True),
            )
            pending[1].add_done_callback(_retrieve)
            await asyncio.sleep(KEYSTROKE_S)
            if pending[1].done() and not pending[1].cancelled():
                with contextlib.suppress(LspError):
                    shown += bool(first_item(pending[1].result()))
        if pending is not None:
            with contextlib.suppress(LspError, TimeoutError):
                shown += bool(first_item(await asyncio.wait_for(pending[1], 60)))
        await asyncio.sleep(0.5)  # let cancelled decodes report back
        after = (await completion_status(lsp)).get("stats", {})
    finally:
        await lsp.close()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after if isinstance(after[k], int)}
    cancelled = delta.get("cancelled", 0)
    return {
        "keystrokes": len(body),
        "model_calls": delta.get("model_calls", 0),
        "typeahead_hits": delta.get("typeahead_hits", 0),
        "cache_hits": delta.get("cache_hits", 0),
        "superseded_before_decode": delta.get("superseded", 0) + delta.get("skipped", 0),
        "cancelled_mid_decode": cancelled,
        "client_cancels": late,
        "suggestions_shown": shown,
        "wasted_tokens": delta.get("wasted_tokens", 0),
        "wasted_tokens_per_cancelled": round(delta.get("wasted_tokens", 0) / cancelled, 2)
        if cancelled
        else 0.0,
        "prompt_tokens": delta.get("prompt_tokens", 0),
        "cached_tokens": delta.get("cached_tokens", 0),
        "kv_reuse": round(delta.get("cached_tokens", 0) / max(1, delta.get("prompt_tokens", 0)), 3),
    }


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a cancelled request's error as seen (the client expected it)."""
    if not future.cancelled():
        future.exception()


def run(ctx: BenchContext) -> dict[str, Any]:
    root = ctx.scratch("completion")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    n, keys, problems = (6, 24, 6) if ctx.quick else (20, 80, 16)
    if "problems" in ctx.options:
        problems = int(ctx.options["problems"])

    async def main() -> dict[str, Any]:
        return {
            "overhead": await overhead(ctx, root, n),
            "typing": await typing(ctx, root, keys),
            "quality": await quality(
                root, problems, _settings(ctx, multiline="never", max_tokens=32)
            ),
        }

    return asyncio.run(main())


SUITE = Suite(
    "completion",
    "inline completion: LSP overhead, cache/type-ahead, typing simulation, HumanEval infilling",
    run,
)
