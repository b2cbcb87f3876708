"""Infill: HumanEval single-line infilling end to end through ``atoll serve``, against raw
llama.cpp on the same model and prefix, in the same run.

Each task is a fresh document (``didOpen``, then at once an invoked inline completion on
the masked line, then ``didClose``), as when a user opens a file and asks. The raw side
is ``Llama.create_completion`` on the document's text before the cursor (prefix-only, no
KV reuse between tasks, the same token limit and the newline stop). The target: the end
to end time at most 1.3x raw.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

from atoll.bench._session import Editor, RawLlama, answer, start_server
from atoll.bench.harness import BenchContext, Suite, chart, percentiles
from atoll.bench.humaneval import humaneval_tasks, similarity
from atoll.models.types import Prompt, Segment

MAX_TOKENS = 32  # the engine's single-line cap


async def served(
    ctx: BenchContext, root: Path, tasks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    lsp = await start_server(ctx, root, multiline="never", max_tokens=48)
    rows = []
    try:
        for task in tasks:
            path = root / task["name"]
            editor = Editor(lsp, path, task["text"])
            editor.cursor = task["offset"]
            _, future = editor.request(automatic=False)
            started = time.perf_counter()
            outcome, text = await answer(future, 120)
            ms = (time.perf_counter() - started) * 1000
            lsp.notify("textDocument/didClose", {"textDocument": {"uri": editor.uri}})
            rows.append({"ms": ms, "outcome": outcome, "text": text.strip()})
    finally:
        await lsp.close()
    return rows


def raw_runs(ctx: BenchContext, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raw = RawLlama(ctx.model)
    rows = []
    try:
        for task in tasks:
            prompt = Prompt((Segment(task["text"][: task["offset"]]),))
            ms, text = raw.run(raw.tokens(prompt), MAX_TOKENS, fresh=True, stop="\n")
            rows.append({"ms": ms, "text": text.strip()})
    finally:
        raw.close()
    return rows


def run(ctx: BenchContext) -> dict[str, Any]:
    root = ctx.scratch("infill")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    limit = int(ctx.options.get("problems", 10 if ctx.quick else 40))
    tasks = humaneval_tasks(limit)
    for task in tasks:
        (root / task["name"]).write_text(task["text"])
    # Raw first, then served, then raw again: the machine's load drifts, so the raw
    # time of a task is the better of its two runs around the served one.
    first = raw_runs(ctx, tasks)
    lsp_rows = asyncio.run(served(ctx, root, tasks))
    second = raw_runs(ctx, tasks)
    raw_ms = [min(a["ms"], b["ms"]) for a, b in zip(first, second, strict=True)]
    lsp_ms = [row["ms"] for row in lsp_rows]
    ratios = [s / max(r, 0.1) for s, r in zip(lsp_ms, raw_ms, strict=True)]

    def quality(texts: list[str]) -> dict[str, float]:
        expected = [t["expected"] for t in tasks]
        return {
            "empty": sum(1 for t in texts if not t),
            "exact_match": round(
                sum(a == b for a, b in zip(texts, expected, strict=True)) / len(tasks), 3
            ),
            "edit_similarity": round(
                sum(similarity(a, b) for a, b in zip(texts, expected, strict=True)) / len(tasks), 3
            ),
        }

    return {
        "problems": len(tasks),
        "served_ms": percentiles(lsp_ms),
        "raw_ms": percentiles(raw_ms),
        "ratio": percentiles(ratios),
        "served": quality([r["text"] for r in lsp_rows]),
        "raw": quality([r["text"] for r in first]),
        "not_answered": sum(1 for r in lsp_rows if r["outcome"] != "answered"),
        "target_ratio": 1.3,
        "charts": [chart("HumanEval infill: served / raw", "hist", {"ratio": ratios})],
    }


SUITE = Suite(
    "infill",
    "HumanEval single-line infilling through atoll serve vs raw llama.cpp, same prefix",
    run,
)
