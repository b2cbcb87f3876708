"""Limits: inputs and servers that try to make completion unbounded.

- huge: an inline completion at the end of a 20 MB single-line file (minified code):
  time to the answer against the time budget, and the server's memory before and after.
- stream_forever: an OpenAI-compatible server that keeps a stream open with keep-alives
  and never sends a token; how long each request takes, and whether the first stream is
  abandoned (the server sees the client go away). Once more with the warm-up on: whether
  completion ever gets ready.
- malformed: a server answering 200 with a body that is not JSON; how often it is hit
  during a burst of keystrokes (back-off) and how many messages the user sees.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import string
import time
from pathlib import Path
from typing import Any

from atoll.bench._session import Editor, NotReadyError, answer, start_server
from atoll.bench.faultyserver import faulty_server
from atoll.bench.harness import BenchContext, Suite, percentiles

BUDGET_MS = 3000


def minified(size: int, seed: int = 5) -> str:
    """``size`` characters of one-line JavaScript-like code."""
    rng = random.Random(seed)
    names = ["".join(rng.choices(string.ascii_letters, k=rng.randint(1, 6))) for _ in range(500)]
    parts: list[str] = []
    total = 0
    while total < size:
        piece = f"var {rng.choice(names)}={rng.choice(names)}({rng.randint(0, 999)});"
        parts.append(piece)
        total += len(piece)
    return "".join(parts)[:size]


async def huge(ctx: BenchContext, root: Path, size: int) -> dict[str, Any]:
    lsp = await start_server(ctx, root, time_budget_ms=BUDGET_MS)
    try:
        rss_start = lsp.rss_mib()
        text = minified(size)
        editor = Editor(lsp, root / "bundle.min.js", text)
        editor.cursor = len(text)
        _, future = editor.request(automatic=False)
        started = time.perf_counter()
        outcome, suggestion = await answer(future, 60)
        ms = (time.perf_counter() - started) * 1000
        # A second request on the same file: the first one's state must not linger.
        editor.type("var ")
        _, future = editor.request(automatic=True)
        started = time.perf_counter()
        second, _ = await answer(future, 60)
        second_ms = (time.perf_counter() - started) * 1000
        rss_end = lsp.rss_mib()
    finally:
        await lsp.close()
    return {
        "chars": size,
        "outcome": outcome,
        "answer_ms": round(ms, 1),
        "second_outcome": second,
        "second_answer_ms": round(second_ms, 1),
        "within_budget": outcome == "answered" and ms <= BUDGET_MS,
        "suggestion_chars": len(suggestion),
        "rss_mib": {"start": round(rss_start, 1), "end": round(rss_end, 1)},
        "budget_ms": BUDGET_MS,
    }


async def remote(
    ctx: BenchContext, root: Path, mode: str, keys: int, *, warmup: bool = False
) -> dict[str, Any]:
    """``keys`` keystrokes 0.3 s apart against a faulty server in ``mode``."""
    (root / "calc.py").write_text("def add(a, b):\n    ")
    with faulty_server(mode) as server:
        serve_ctx = BenchContext(out=ctx.out, endpoint=server.base_url, quick=ctx.quick)
        try:
            lsp = await start_server(
                serve_ctx, root, ready_s=30, time_budget_ms=BUDGET_MS, debounce_ms=0, warmup=warmup
            )
        except NotReadyError as exc:
            return {"ready": False, "error": str(exc), "server_hits": server.hits("/v1")}
        ms: list[float] = []
        outcomes: list[str] = []
        try:
            editor = Editor(lsp, root / "calc.py", "def add(a, b):\n    ")
            editor.cursor = len(editor.text)
            for i in range(keys):
                editor.type("r" if i % 2 == 0 else "e")
                _, future = editor.request(automatic=True)
                started = time.perf_counter()
                outcome, _ = await answer(future, 60)
                ms.append((time.perf_counter() - started) * 1000)
                outcomes.append(outcome)
                await asyncio.sleep(0.3)
            await asyncio.sleep(0.5)
            messages = [
                n["params"]["message"]
                for n in lsp.notifications
                if n.get("method") == "window/showMessage"
            ]
        finally:
            await lsp.close()
        return {
            "ready": True,
            "keystrokes": keys,
            "latency_ms": percentiles(ms, (50, 95, 100)),
            "answered": outcomes.count("answered"),
            "server_hits": server.hits("/v1/completions") + server.hits("/infill"),
            "streams_still_open": server.open_streams,
            "streams_abandoned_after_s": [round(x, 2) for x in server.abandoned_after_s],
            "messages": messages,
        }


def run(ctx: BenchContext) -> dict[str, Any]:
    root = ctx.scratch("limits")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    size = 2_000_000 if ctx.quick else 20_000_000
    keys = 6 if ctx.quick else 12

    async def main() -> dict[str, Any]:
        return {
            "huge_single_line": await huge(ctx, root, size),
            "stream_forever": await remote(ctx, root, "stream_forever", keys),
            "stream_forever_warmup": await remote(ctx, root, "stream_forever", 1, warmup=True),
            "malformed": await remote(ctx, root, "malformed", keys),
        }

    return asyncio.run(main())


SUITE = Suite(
    "limits",
    "a 20 MB single-line file, a server that streams forever, a server answering garbage",
    run,
)
