"""The model worker: one job at a time, completions before chats, cancelled jobs skipped."""

from __future__ import annotations

import asyncio
import threading

import pytest

from atoll.models.worker import (
    PRIORITY_CHAT,
    PRIORITY_COMPLETION,
    JobSkippedError,
    ModelWorker,
)


async def test_priority_and_skip() -> None:
    worker = ModelWorker("test-worker")
    gate = threading.Event()
    order: list[str] = []
    try:
        blocker = asyncio.ensure_future(worker.submit(lambda: gate.wait(5)))
        await asyncio.sleep(0.05)  # the blocker is running
        chat = asyncio.ensure_future(
            worker.submit(lambda: order.append("chat"), priority=PRIORITY_CHAT)
        )
        cancel = threading.Event()
        skipped = asyncio.ensure_future(
            worker.submit(lambda: order.append("skipped"), cancel=cancel)
        )
        completion = asyncio.ensure_future(
            worker.submit(lambda: order.append("completion"), priority=PRIORITY_COMPLETION)
        )
        await asyncio.sleep(0.05)
        assert worker.pending() == 3 and worker.pending(PRIORITY_CHAT) == 1
        cancel.set()
        gate.set()
        await asyncio.gather(blocker, chat, completion)
        with pytest.raises(JobSkippedError):
            await skipped
        assert order == ["completion", "chat"]
    finally:
        worker.stop()


async def test_cancelling_the_awaiting_task_sets_the_flag() -> None:
    worker = ModelWorker("test-worker-2")
    started = threading.Event()
    cancel = threading.Event()

    def job() -> int:
        started.set()
        cancel.wait(5)  # a decode loop checking its flag between tokens
        return 1

    try:
        task = asyncio.ensure_future(worker.submit(job, cancel=cancel))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cancel.is_set()
        assert worker.call(lambda: 2, timeout=5) == 2  # ready for the next job
    finally:
        worker.stop()
