"""``atoll serve`` against completion servers that misbehave on the wire.

A scripted OpenAI-compatible server keeps a stream open forever or answers garbage;
the editor must keep getting prompt answers, and the user is told once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from atoll.bench.faultyserver import faulty_server
from tests.e2e.conftest import StartServer, status
from tests.e2e.test_completion import CURSOR, ENV, SOURCE, open_doc, suggest, wait_ready

SETTINGS = {"completion": {"time_budget_ms": 800, "debounce_ms": 0, "backoff_max_s": 60.0}}


async def test_a_server_that_streams_forever_costs_each_request_only_its_budget(
    start_server: StartServer, tmp_path: Path
) -> None:
    with faulty_server("stream_forever") as server:
        env = {**ENV, "ATOLL_COMPLETION_ENDPOINT_BASE_URL": server.base_url}
        lsp = await start_server(tmp_path, settings=SETTINGS, env=env)
        await wait_ready(lsp)  # the warm-up is abandoned at its deadline too
        uri = open_doc(lsp, tmp_path / "calc.py", SOURCE)
        for _ in range(2):
            assert await asyncio.wait_for(suggest(lsp, "visual_studio_code", uri, CURSOR), 10) == ""
        # Every stream was closed by the client: none is still running on the server.
        deadline = time.monotonic() + 5
        while server.open_streams:
            assert time.monotonic() < deadline, "a stream was never abandoned"
            await asyncio.sleep(0.05)
        hits = server.hits("/v1/completions")
        assert len(server.abandoned_after_s) == hits == 3  # the warm-up and two requests
        # Three silent answers in a row: the server is reported down, once, and left alone.
        assert await suggest(lsp, "visual_studio_code", uri, CURSOR) == ""
        assert server.hits("/v1/completions") == hits
        down = [m.message for m in lsp.messages if "unavailable" in m.message]
        assert len(down) == 1 and "time budget" in down[0], down
        assert (await status(lsp))["completion"]["server_up"] is False


async def test_garbage_from_the_server_is_backed_off_and_told_once(
    start_server: StartServer, tmp_path: Path
) -> None:
    with faulty_server("malformed") as server:
        env = {**ENV, "ATOLL_COMPLETION_ENDPOINT_BASE_URL": server.base_url}
        settings = {"completion": {**SETTINGS["completion"], "warmup": False}}
        lsp = await start_server(tmp_path, settings=settings, env=env)
        await wait_ready(lsp)
        uri = open_doc(lsp, tmp_path / "calc.py", SOURCE)
        for _ in range(6):  # keystrokes
            assert await suggest(lsp, "visual_studio_code", uri, CURSOR) == ""
        assert server.hits() == 1  # the first request; the back-off kept the rest at home
        down = [m.message for m in lsp.messages if "unavailable" in m.message]
        assert len(down) == 1 and "malformed" in down[0], down
