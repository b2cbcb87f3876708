"""Prompt evaluation on llama.cpp's lower-level API: batched, abortable, KV reused.

``Llama.generate`` evaluates a whole prompt in one call that nothing can interrupt: a
superseded request held the model for as long as its prompt took (seconds). Here the
prompt goes through ``llama_decode`` in batches, the first sized to take about
:data:`SLICE_S`, each next one twice as big (a request that lives on was not superseded
by a keystroke, and big batches are faster per token); the cancel flag is checked
between them. A cancelled batch may finish if it does so
within :data:`GRACE_S` (its tokens are most likely the next request's too: typing
changes only the prompt's end); past that, an abort flag that llama.cpp reads between
graph nodes stops it within a millisecond or two. The deadline aborts at once. llama.cpp
then drops only the aborted batch: what was evaluated before stays in the KV.

Before evaluating, :func:`atoll.models.kv.plan_reuse` decides which entries
of the previous prompt stay (the common prefix, plus runs moved back into place).
llama-cpp-python's ``input_ids``/``n_tokens`` are kept in step so its own calls
(``create_chat_completion``) see the true state of the KV.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from atoll.models.kv import Reuse, plan_reuse
from atoll.models.stopping import stop_reason
from atoll.models.worker import CancelFlag

SLICE_S = 0.06  # a prompt batch takes about this long (sized from the measured speed)
GRACE_S = 0.025  # a cancelled batch may finish within this, else it is aborted
MIN_BATCH, MAX_BATCH, FIRST_BATCH = 4, 256, 16  # tokens per llama_decode
MIN_REUSE_RUN = 16  # shortest run of old entries worth moving (llama.cpp's --cache-reuse)
ABORTED = 2  # llama_decode's return code when the abort callback stopped it


class AbortSwitch:
    """llama.cpp's abort callback, read without Python.

    ggml calls the callback after every graph node. A Python callback would take the
    GIL hundreds of times per batch, and wait for it whenever the event loop runs, so
    the callback is C's ``strlen`` on a two-byte buffer: it returns 0 ("go on") while
    the buffer is empty and 1 ("abort") once :meth:`trip` writes a character.
    """

    def __init__(self, ctx: Any) -> None:
        import llama_cpp

        self._flag = ctypes.create_string_buffer(2)
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") if sys.platform == "win32" else None)
        self._callback = ctypes.cast(self._libc.strlen, llama_cpp.ggml_abort_callback)
        llama_cpp.llama_set_abort_callback(
            ctx, self._callback, ctypes.cast(self._flag, ctypes.c_void_p)
        )

    def trip(self) -> None:
        self._flag[0] = b"x"

    def reset(self) -> None:
        self._flag[0] = b"\0"

    @property
    def tripped(self) -> bool:
        return self._flag[0] != b"\0"

    @contextlib.contextmanager
    def armed(
        self, cancel: threading.Event | None, deadline: float | None, grace_s: float = GRACE_S
    ) -> Iterator[None]:
        """Trip ``grace_s`` after ``cancel`` is set (a :class:`CancelFlag` says when; a
        plain event only between batches) and at ``deadline``; reset afterwards so other
        calls on the context are not aborted."""
        self.reset()
        timers: list[threading.Timer] = []

        def trip_in(delay: float) -> None:
            if delay <= 0:
                self.trip()
                return
            timer = threading.Timer(delay, self.trip)
            timer.daemon = True
            timers.append(timer)
            timer.start()

        remove = None
        if isinstance(cancel, CancelFlag):
            remove = cancel.add_callback(lambda: trip_in(grace_s))
        elif cancel is not None and cancel.is_set():
            self.trip()
        if deadline is not None:
            trip_in(deadline - time.monotonic())
        try:
            yield
        finally:
            if remove is not None:
                remove()
            for timer in timers:
                timer.cancel()
            self.reset()


class Evaluator:
    """The KV cache of one ``Llama`` and the calls that fill it (worker thread only)."""

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        self.llm = llm
        self.abort = AbortSwitch(llm.ctx)
        self._memory = llama_cpp.llama_get_memory(llm.ctx)
        self.can_shift = bool(llama_cpp.llama_memory_can_shift(self._memory))
        self._n_vocab = int(llm.n_vocab())
        self._s_per_token = 0.0  # measured prompt speed (exponential average)

    @property
    def cached(self) -> list[int]:
        llm = self.llm
        return [int(t) for t in llm.input_ids[: llm.n_tokens]]

    def reuse(self, tokens: Sequence[int]) -> tuple[int, Reuse]:
        """Keep what the KV has of ``tokens`` (moving runs into place); returns how many
        leading tokens of ``tokens`` are in the KV now (always fewer than all of them,
        so the last one is evaluated and its logits are fresh)."""
        import llama_cpp

        plan = plan_reuse(self.cached, tokens, MIN_REUSE_RUN if self.can_shift else 0)
        for shift in plan.shifts:
            llama_cpp.llama_memory_seq_rm(self._memory, 0, shift.start + shift.delta, shift.start)
            llama_cpp.llama_memory_seq_add(self._memory, 0, shift.start, shift.end, shift.delta)
        keep = max(0, min(plan.keep, len(tokens) - 1))
        if not llama_cpp.llama_memory_seq_rm(self._memory, 0, keep, -1):
            llama_cpp.llama_memory_clear(self._memory, True)  # cannot cut: start over
            keep = 0
        self._record(0, tokens[:keep])
        return keep, plan

    def evaluate(
        self,
        tokens: Sequence[int],
        start: int,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> tuple[int, str]:
        """Evaluate ``tokens[start:]``; returns (tokens now in the KV, why it stopped
        early or "")."""
        n = start
        size = self.first_batch()
        while n < len(tokens):
            why = _stop_reason(cancel, deadline, self.abort)
            if why:
                return n, why
            chunk = tokens[n : n + size]
            started = time.perf_counter()
            if not self.decode(chunk, n):
                return n, _stop_reason(cancel, deadline, self.abort) or "cancelled"
            if size == self.first_batch():
                self._measured(len(chunk), time.perf_counter() - started)
            n += len(chunk)
            size = min(MAX_BATCH, size * 2)
        return n, ""

    def first_batch(self) -> int:
        """Tokens that take about :data:`SLICE_S` at the speed measured so far."""
        if self._s_per_token <= 0:
            return FIRST_BATCH
        return max(MIN_BATCH, min(MAX_BATCH, int(SLICE_S / self._s_per_token)))

    def _measured(self, n: int, seconds: float) -> None:
        per = seconds / max(1, n)
        self._s_per_token = per if self._s_per_token <= 0 else 0.7 * self._s_per_token + 0.3 * per

    def decode(self, chunk: Sequence[int], n_past: int) -> bool:
        """One ``llama_decode`` at ``n_past``; False when it was aborted."""
        import llama_cpp

        llm = self.llm
        llm._batch.set_batch(batch=list(chunk), n_past=n_past, logits_all=False)
        rc = llama_cpp.llama_decode(llm.ctx, llm._batch.batch)
        if rc == ABORTED:
            self._record(0, self.cached[:n_past])
            return False
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        self._record(n_past, chunk)
        return True

    def greedy(self) -> int:
        """The most likely next token after the last decoded one."""
        import llama_cpp
        import numpy as np

        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(self.llm.ctx, -1), shape=(self._n_vocab,)
        )
        return int(logits.argmax())

    def _record(self, at: int, tokens: Sequence[int]) -> None:
        llm = self.llm
        llm.input_ids[at : at + len(tokens)] = list(tokens)
        llm.n_tokens = at + len(tokens)
        # Llama.generate may sample from "current" logits when a prompt is fully
        # cached; ours are not its, so make it evaluate at least one token.
        llm._requires_eval = True


def _stop_reason(cancel: threading.Event | None, deadline: float | None, abort: AbortSwitch) -> str:
    """:func:`~atoll.models.stopping.stop_reason`, or "deadline" once ``abort`` tripped
    (only the deadline timer trips it without a cancel)."""
    return stop_reason(cancel, deadline) or ("deadline" if abort.tripped else "")
