"""One thread that owns the model: jobs run one at a time, completions first.

llama.cpp contexts are not thread-safe and a laptop has one model in memory, so every
decode goes through this queue. The LSP event loop only awaits futures. A job whose
``cancel`` event is set before it starts is dropped without touching the model.

Priorities, most urgent first: completion, hover's explanation, the crew, warming a
file. A job submitted as ``preemptible`` (warming, explanations) is told to stop, through
its :class:`CancelFlag` with reason ``"preempted"``, as soon as a more urgent job is
queued: llama.cpp then stops within one graph node (see ``backends.llama_eval``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

log = logging.getLogger(__name__)
T = TypeVar("T")

PRIORITY_COMPLETION = 0
PRIORITY_CHAT = 1  # hover explanations and other short answers
PRIORITY_CREW = 2
PRIORITY_WARM = 3  # evaluating a file's prompt ahead of a request


class Scheduling(TypedDict, total=False):
    """How a job waits: its ``priority`` (lower first; default completion), the
    ``cancel`` event the awaiting task's cancellation sets, and whether a more urgent
    job may stop it (``preemptible``)."""

    priority: int
    cancel: threading.Event | None
    preemptible: bool


class JobSkippedError(RuntimeError):
    """The job was cancelled before the worker started it."""


class CancelFlag(threading.Event):
    """A cancel event that says why it was set and calls back whoever waits on it.

    ``set_at`` is when it was first set (to measure how long the model stays busy
    after a cancel); ``reason`` is "cancelled", "preempted" or "deadline". Callbacks
    run on the setting thread and must be quick (they flip llama.cpp's abort flag).
    """

    def __init__(self) -> None:
        super().__init__()
        self.set_at: float | None = None
        self.reason = ""
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def set(self, reason: str = "cancelled") -> None:
        with self._lock:
            if self.set_at is None:
                self.set_at = time.monotonic()
                self.reason = reason
            callbacks = list(self._callbacks)
        super().set()
        for callback in callbacks:
            callback()

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the flag is set (at once if it is); returns a remover."""
        with self._lock:
            self._callbacks.append(callback)
        if self.is_set():
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[[], Any] = field(compare=False)
    loop: asyncio.AbstractEventLoop | None = field(compare=False)
    future: Any = field(compare=False)  # asyncio.Future or concurrent Future
    cancel: threading.Event | None = field(compare=False)
    enqueued: float = field(compare=False, default_factory=time.monotonic)
    preemptible: bool = field(compare=False, default=False)


class ModelWorker:
    """A single daemon thread running blocking model calls in priority order."""

    def __init__(self, name: str = "atoll-model") -> None:
        self._queue: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._stopped = threading.Event()
        self.busy = threading.Event()
        self._current: _Job | None = None
        # How long each job ran on after its cancel flag was set (ms), newest last.
        self.busy_after_cancel_ms: deque[float] = deque(maxlen=256)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def pending(self, priority: int | None = None) -> int:
        """Jobs waiting (of one priority, or all)."""
        with self._queue.mutex:
            return sum(1 for j in self._queue.queue if priority in (None, j.priority))

    def pending_above(self, priority: int) -> bool:
        """Whether a job more urgent than ``priority`` is waiting."""
        with self._queue.mutex:
            return any(j.priority < priority for j in self._queue.queue)

    async def submit(self, fn: Callable[[], T], **how: Unpack[Scheduling]) -> T:
        """Run ``fn`` on the worker; if the awaiting task is cancelled, ``cancel`` is set."""
        if self._stopped.is_set():
            raise RuntimeError("model worker is stopped")
        priority, cancel = how.get("priority", PRIORITY_COMPLETION), how.get("cancel")
        preemptible = how.get("preemptible", False)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(priority, next(self._seq), fn, loop, future, cancel, preemptible=preemptible)
        self._queue.put(job)
        self._preempt_for(priority)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if cancel is not None:
                cancel.set()
            raise

    async def submit_timed(self, fn: Callable[[], T], **how: Unpack[Scheduling]) -> tuple[T, float]:
        """:meth:`submit`, also returning how long the job waited in the queue (ms)."""
        queued = time.perf_counter()
        started: list[float] = []

        def job() -> T:
            started.append(time.perf_counter())
            return fn()

        result = await self.submit(job, **how)
        return result, ((started[0] if started else queued) - queued) * 1000

    def call(
        self,
        fn: Callable[[], T],
        *,
        timeout: float | None = None,
        priority: int = PRIORITY_COMPLETION,
    ) -> T:
        """Run ``fn`` on the worker from a thread without an event loop (CLI, the crew)."""
        import concurrent.futures

        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(_Job(priority, next(self._seq), fn, None, future, None))
        self._preempt_for(priority)
        return future.result(timeout)

    def _preempt_for(self, priority: int) -> None:
        """A more urgent job is queued: ask a preemptible running job to stop now."""
        current = self._current
        if current is None or not current.preemptible or current.priority <= priority:
            return
        if isinstance(current.cancel, CancelFlag):
            current.cancel.set("preempted")
        elif current.cancel is not None:
            current.cancel.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop: cancel the running job (at its next token), fail the queued ones, and wait.

        Returns whether the thread ended within ``timeout``; only then may the caller
        free the model (freeing it under a running decode crashes the process).
        """
        self._stopped.set()
        current = self._current
        if current is not None and current.cancel is not None:
            current.cancel.set()
        self._queue.put(_Job(-1, next(self._seq), lambda: None, None, None, None))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _drain(self) -> None:
        """Answer every job still queued: the worker is gone."""
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            self._deliver(job, None, RuntimeError("model worker is stopped"))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if self._stopped.is_set():
                if job.future is not None:
                    self._deliver(job, None, RuntimeError("model worker is stopped"))
                self._drain()
                return
            if job.cancel is not None and job.cancel.is_set():
                self._deliver(job, None, JobSkippedError("cancelled before it started"))
                continue
            self.busy.set()
            self._current = job
            if job.preemptible and self.pending_above(job.priority):
                self._preempt_for(job.priority - 1)  # queued while this one was picked
            started = time.monotonic()
            try:
                result = job.fn()
            except BaseException as exc:
                self._deliver(job, None, exc)
            else:
                self._deliver(job, result, None)
            finally:
                self._current = None
                self.busy.clear()
                self._note_cancel(job, started)

    def _note_cancel(self, job: _Job, started: float) -> None:
        set_at = getattr(job.cancel, "set_at", None)
        if set_at is not None:
            self.busy_after_cancel_ms.append(
                max(0.0, time.monotonic() - max(set_at, started)) * 1000
            )

    @staticmethod
    def _deliver(job: _Job, result: Any, error: BaseException | None) -> None:
        future = job.future
        if future is None:
            return
        if job.loop is None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
            return

        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        try:
            job.loop.call_soon_threadsafe(settle)
        except RuntimeError:
            log.debug("event loop closed before a model result arrived")
