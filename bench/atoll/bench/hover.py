"""Hover: how fast the index's facts come back, how long an explanation takes, and how
fast the cached one is, over every function and class of the sample workspace."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path
from typing import Any

from atoll.bench.harness import REPO, BenchContext, Suite, percentiles
from atoll.bench.lspdriver import LspProcess

DEFINITION = re.compile(r"^\s*(?:def|class|pub fn|fn|pub struct|struct)\s+([A-Za-z_]\w*)", re.M)
CAPABILITIES: dict[str, Any] = {
    "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}},
    "general": {"positionEncodings": ["utf-16"]},
}


def _targets(root: Path, limit: int) -> list[tuple[Path, int, int, str]]:
    """(file, line, column, name) at each definition's name."""
    found: list[tuple[Path, int, int, str]] = []
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.rs")]):
        text = path.read_text()
        for match in DEFINITION.finditer(text):
            offset = match.start(1)
            line = text.count("\n", 0, offset)
            found.append((path, line, offset - (text.rfind("\n", 0, offset) + 1), match.group(1)))
    return found[:limit]


async def _status(lsp: LspProcess) -> dict[str, Any]:
    result = await lsp.request(
        "workspace/executeCommand", {"command": "atoll.status", "arguments": []}
    )
    return result if isinstance(result, dict) else {}


async def _settled(lsp: LspProcess, timeout: float = 120.0) -> None:
    """Until no explanation is being written (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (await _status(lsp)).get("hover", {}).get("pending"):
            return
        await asyncio.sleep(0.05)


async def _hover(lsp: LspProcess, path: Path, line: int, column: int) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await lsp.request(
        "textDocument/hover",
        {"textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": column}},
    )
    return (time.perf_counter() - start) * 1000, result


async def _run(ctx: BenchContext) -> dict[str, Any]:
    root = ctx.scratch("hover") / "ws"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "samples" / "workspace", root)
    settings: dict[str, Any] = {"hover": {"time_budget_ms": 60000}, "completion": {"warmup": False}}
    if ctx.model:
        settings["models"] = {"gguf": ctx.model}
    if ctx.endpoint:
        settings["completion"]["endpoint"] = {"base_url": ctx.endpoint}
    lsp = await LspProcess.start(env={"ATOLL_INDEXING_EMBEDDINGS": "0"})
    try:
        await lsp.initialize(root, CAPABILITIES, settings)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            state = await _status(lsp)
            if state.get("index", {}).get("state") == "ready" and state.get("completion", {}).get(
                "ready"
            ):
                break
            await asyncio.sleep(0.2)
        first: list[float] = []
        explain: list[float] = []
        cached: list[float] = []
        answered = 0
        for path, line, column, _name in _targets(root, 4 if ctx.quick else 40):
            ms, result = await _hover(lsp, path, line, column)
            first.append(ms)
            answered += result is not None
            start = time.perf_counter()
            await _settled(lsp)
            explain.append((time.perf_counter() - start) * 1000)
            ms, _ = await _hover(lsp, path, line, column)
            cached.append(ms)
        blank = [(await _hover(lsp, path, 0, 0))[0] for _ in range(10)]
        counters = (await _status(lsp)).get("hover", {})
    finally:
        await lsp.close()
    return {
        "symbols": len(first),
        "answered": answered,
        "first_hover_ms": percentiles(first),
        "explanation_ms": percentiles(explain),
        "cached_hover_ms": percentiles(cached),
        "no_target_hover_ms": percentiles(blank),
        "explainer": counters,
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    return asyncio.run(_run(ctx))


SUITE = Suite("hover", "Hover: instant facts, explanation time, cached hover", run)
