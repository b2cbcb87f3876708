"""Warming through ``atoll serve``: the first request in a file pays only for what changed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartServer, status
from tests.e2e.test_completion import ENV, open_doc, suggest, wait_ready

pytestmark = pytest.mark.slow
TEXT = "".join(f"def f{i}(x):\n    return x * {i}\n" for i in range(12))


async def stats_when(lsp: LanguageClient, ready: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = (await status(lsp))["completion"]["stats"]
        if ready(stats):
            return dict(stats)
        assert time.monotonic() < deadline, stats
        await asyncio.sleep(0.1)


async def test_a_file_is_warmed_on_open_and_on_atoll_warm(
    start_server: StartServer, tmp_path: Path
) -> None:
    settings = {"completion": {"time_budget_ms": 60000, "debounce_ms": 0, "cache_size": 0}}
    lsp = await start_server(tmp_path, settings=settings, env=ENV)
    await wait_ready(lsp)
    uri = open_doc(lsp, tmp_path / "funcs.py", TEXT)
    warmed = await stats_when(lsp, lambda s: s["warms"] >= 1)
    assert warmed["warm_tokens"] > 50  # the file's first window
    # The request at the end of the file finds (nearly) all of its prompt in the KV.
    last = types.Position(TEXT.count("\n") - 1, len("    return x * 11"))
    await suggest(lsp, "visual_studio_code", uri, last)
    [entry] = (await status(lsp))["completion"]["history"][-1:]
    assert entry["evaluated_tokens"] <= 4, entry
    # A client may say where the cursor went: the server warms there.
    lsp.protocol.notify(
        "atoll/warm", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": 0}}
    )
    await stats_when(lsp, lambda s: s["warms"] >= 2)
