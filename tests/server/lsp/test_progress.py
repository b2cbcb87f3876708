"""One work-done progress bar on a real server protocol: begin, reports from a worker
thread, the user's cancel, nothing after the end, nothing for a client without bars."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lsprotocol import types

from atoll.server.lsp.progress import WorkDone
from tests.server.loopback import started


async def test_begin_report_from_a_thread_end(tmp_path: Path) -> None:
    client = await started(tmp_path)
    bar = WorkDone(client.server, name="test")
    await bar.begin("working", "first")
    worker = threading.Thread(target=bar.report, args=("halfway",), kwargs={"percentage": 50})
    worker.start()
    worker.join()
    await asyncio.sleep(0.05)  # the worker's report reaches the loop
    bar.end("done")
    bar.report("too late")
    await asyncio.sleep(0.05)
    kinds = [(v["kind"], v.get("message")) for v in client.progress()]
    assert kinds == [("begin", "first"), ("report", "halfway"), ("end", "done")]
    assert client.progress()[0].get("cancellable") is False
    assert client.progress()[1]["percentage"] == 50


async def test_reports_are_throttled_unless_forced(tmp_path: Path) -> None:
    client = await started(tmp_path)
    bar = WorkDone(client.server, name="test", every_s=3600)
    await bar.begin("working")
    for n in range(5):
        bar.report(f"{n}")
    bar.report("last", force=True)
    bar.end("done")
    assert [v.get("message") for v in client.progress()] == [None, "0", "last", "done"]


async def test_the_users_cancel_sets_the_event(tmp_path: Path) -> None:
    client = await started(tmp_path)
    cancel = threading.Event()
    bar = WorkDone(client.server, name="test", cancel=cancel)
    await bar.begin("working")
    assert client.progress()[0]["cancellable"] is True and not cancel.is_set()
    assert bar.token is not None
    client.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(bar.token)
    )
    assert cancel.is_set()


async def test_nothing_is_sent_to_a_client_without_progress(tmp_path: Path) -> None:
    client = await started(tmp_path)
    client.server.protocol.client_capabilities = types.ClientCapabilities()
    bar = WorkDone(client.server, name="test")
    await bar.begin("working")
    bar.report("x", force=True)
    bar.end("done")
    assert client.progress() == [] and bar.token is None
