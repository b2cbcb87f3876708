"""When a streamed completion is over: one rule for every backend.

Both backends receive text piece by piece (tokens from llama.cpp, chunks from a
server) and stop at the prompt's stop strings, at its ``done`` predicate (the code block
is over), at the token limit, or when the request is cancelled or out of time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from atoll.models.types import Prompt


def first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    """Where the earliest stop string starts in ``text``, or None."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


def stop_reason(cancel: threading.Event | None, deadline: float | None) -> str:
    """ "preempted" or "cancelled" (a :class:`CancelFlag`'s reason), "deadline", or ""
    (go on)."""
    if cancel is not None and cancel.is_set():
        return str(getattr(cancel, "reason", "") or "cancelled")
    if deadline is not None and time.monotonic() >= deadline:
        return "deadline"
    return ""


@dataclass
class Stopping:
    """Feed it the text so far after each piece; it says whether to go on."""

    prompt: Prompt
    max_tokens: int
    cancel: threading.Event | None = None
    deadline: float | None = None
    text: str = ""
    finish: str = "length"
    pieces: int = 0

    def feed(self, text: str) -> bool:
        """Take the whole text so far; True to decode more. ``text``/``finish`` say the
        result (cut at a stop string) once it returns False."""
        self.pieces += 1
        cut = first_stop(text, self.prompt.stop)
        if cut is not None:
            self.text, self.finish = text[:cut], "stop"
            return False
        self.text = text
        if self.pieces >= self.max_tokens:
            self.finish = "length"
            return False
        if self.prompt.done is not None and self.prompt.done(text):
            self.finish = "stop"
            return False
        return not self.interrupted()

    def interrupted(self) -> bool:
        """Cancelled, preempted or out of time (sets ``finish``)."""
        why = stop_reason(self.cancel, self.deadline)
        if why:
            self.finish = why
        return bool(why)
