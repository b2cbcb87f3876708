"""Which of the previous prompt's KV entries a new prompt can keep, and how to move them.

llama.cpp keeps one key/value entry per evaluated token, at a position. A new prompt
that starts like the previous one keeps that common prefix for free. When text was
removed before the cursor (a deleted line, a block, the window's first lines dropping
off as the file grows), the rest of the old prompt is still there further on: those
runs can be moved back to their new positions (``seq_rm`` the gap, ``seq_add`` a
negative shift), as llama.cpp's server does with ``--cache-reuse``, instead of being
evaluated again. Runs can only move towards the start: llama.cpp appends new tokens
after the highest position it holds, so after inserted text everything is evaluated.

Moved entries were computed with the old text before them; like llama.cpp's server we
accept that approximation for runs of at least ``min_run`` tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shift:
    """Move the entries at positions ``[start, end)`` by ``delta`` (< 0)."""

    start: int
    end: int
    delta: int


@dataclass(frozen=True)
class Reuse:
    """How a new prompt reuses the KV: ``prefix`` tokens in place, then ``shifts``;
    ``keep`` prompt tokens are in the KV afterwards (everything past it is dropped)."""

    prefix: int
    shifts: tuple[Shift, ...]
    keep: int

    @property
    def moved(self) -> int:
        return sum(s.end - s.start for s in self.shifts)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def plan_reuse(cached: Sequence[int], prompt: Sequence[int], min_run: int) -> Reuse:
    """The reuse plan for ``prompt`` given the tokens ``cached`` at positions 0.. .

    After the common prefix, walk the cache: a run of at least ``min_run`` tokens that
    equals the prompt's next tokens is moved into place; anything else is skipped (and
    dropped). Work is bounded by ``len(cached) * min_run`` comparisons.
    """
    prefix = common_prefix(cached, prompt)
    head_c = head_p = prefix
    shifts: list[Shift] = []
    if min_run > 0:
        while head_c < len(cached) and head_p < len(prompt):
            n = 0
            while (
                head_c + n < len(cached)
                and head_p + n < len(prompt)
                and cached[head_c + n] == prompt[head_p + n]
            ):
                n += 1
            if n >= min_run:
                shifts.append(Shift(head_c, head_c + n, head_p - head_c))
                head_c += n
                head_p += n
            else:
                head_c += 1
    return Reuse(prefix, tuple(shifts), head_p)


def apply_plan(cached: Sequence[int], plan: Reuse) -> list[int]:
    """The token list the KV holds after ``plan`` (for checking and bookkeeping)."""
    out = list(cached[: plan.prefix])
    for shift in plan.shifts:
        out.extend(cached[shift.start : shift.end])
    return out
