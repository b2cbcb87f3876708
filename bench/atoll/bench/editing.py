"""Editing: a realistic session on a long file through ``atoll serve``, against raw llama.cpp.

One 2,600-line file (the standard library's ``argparse.py``), edited at human speed:
typing new lines with Enter, backspaces, deleting a line and a block above the cursor,
undo, cursor jumps far away and back, pauses. Every keystroke asks for an automatic
inline completion and cancels the request it no longer waits for, as VS Code does.

Reported per editing pattern: prompt tokens the model evaluated per request against
the tokens the edit changed since the previous model call (the target: at most changed
+ 64, plus what the previous call left unevaluated when it was cancelled mid-prompt);
how long the model stayed busy after each cancel (target: 50 ms); the time from the
keystroke to the suggestion where the user pauses, against raw llama.cpp running the
same prompts in the same order in the same run; the server's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.bench._session import (
    Editor,
    RawLlama,
    answer,
    changed_tokens,
    completion_status,
    settings,
    start_server,
)
from atoll.bench.harness import BenchContext, Suite, chart, percentiles

KEY_S = 0.09  # a steady typist; Enter and jumps pause longer
# At the end of a line and after an edit the user pauses to read the suggestion: at
# least this long, and until it is there (at most LOOK_MAX_S).
LOOK_S = 0.9
LOOK_MAX_S = 20.0
TOKEN_SLACK = 64  # the target: evaluated tokens <= changed tokens + this
MODEL_SOURCES = ("model", "empty", "cancelled", "abandoned")
# Completion settings a run may change: `atoll bench editing -o debounce_ms=120`.
TUNABLE = ("debounce_ms", "time_budget_ms", "warm_idle_ms")


@dataclass
class Sent:
    kind: str
    text: str
    cursor: int
    future: asyncio.Future[Any]
    sent: float
    outcome: str = ""
    ms: float = 0.0


@dataclass
class Session:
    editor: Editor
    rng: random.Random
    sent: list[Sent] = field(default_factory=list)
    history: dict[int, dict[str, Any]] = field(default_factory=dict)
    pending: tuple[int, Sent] | None = None

    async def key(self, kind: str, edit: Callable[[], None], pause: float = KEY_S) -> None:
        """One keystroke: the edit, a cancel for the stale request, a new request."""
        edit()
        item = await self.ask(kind, automatic=True)
        started = time.perf_counter()
        if pause >= LOOK_S:
            await answer(item.future, LOOK_MAX_S)
        left = pause * self.rng.uniform(0.8, 1.25) - (time.perf_counter() - started)
        await asyncio.sleep(max(0.0, left))
        await self.poll()

    async def ask(self, kind: str, *, automatic: bool) -> Sent:
        if self.pending is not None and not self.pending[1].future.done():
            self.editor.lsp.cancel(self.pending[0])
        editor = self.editor
        request_id, future = editor.request(automatic=automatic)
        item = Sent(kind, editor.text, editor.cursor, future, time.perf_counter())
        future.add_done_callback(functools.partial(_finished, item))
        self.sent.append(item)
        self.pending = (request_id, item)
        return item

    async def typed(self, kind: str, text: str) -> None:
        """Type ``text``, then pause to read the suggestion."""
        for i, ch in enumerate(text):
            pause = LOOK_S if i == len(text) - 1 else KEY_S
            await self.key(kind, functools.partial(self.editor.type, ch), pause)

    async def poll(self) -> None:
        for entry in (await completion_status(self.editor.lsp)).get("history", []):
            self.history[entry["n"]] = entry


def _finished(item: Sent, _: object) -> None:
    item.ms = (time.perf_counter() - item.sent) * 1000
    if item.future.cancelled() or item.future.exception() is not None:
        item.outcome = "cancelled"
    else:
        item.outcome = "answered"


def _anchors(text: str) -> tuple[int, int]:
    """Ends of the first body lines of two methods, ~45 % and ~80 % into the file."""
    lines = text.split("\n")
    defs = [i for i, ln in enumerate(lines) if ln.startswith("    def ") and ln.endswith(":")]
    picks = []
    for share in (0.45, 0.8):
        i = next(d for d in defs if d >= share * len(lines)) + 1
        while not lines[i].strip() or lines[i].strip().startswith(('"""', "#")):
            i += 1
        picks.append(sum(len(x) + 1 for x in lines[:i]) + len(lines[i]))
    return picks[0], picks[1]


async def script(s: Session, quick: bool) -> None:
    """The editing session (see the module docstring)."""
    e = s.editor
    here, far = _anchors(e.text)
    indent = " " * 8
    await asyncio.sleep(1.0)  # the file was just opened
    e.cursor = here
    await answer((await s.ask("jump", automatic=False)).future, LOOK_MAX_S)
    await s.key("enter", lambda: e.type("\n" + indent), pause=0.3)
    await s.typed("type", "values = self._get_values(action)" if quick else
                  "values = self._get_values(action, arg_strings)")  # fmt: skip
    await s.key("enter", lambda: e.type("\n" + indent), pause=0.3)
    await s.typed("type", "if values is None:")
    for i in range(6):
        await s.key("backspace", e.backspace, LOOK_S if i == 5 else KEY_S)
    await s.typed("type", "not values:")
    await s.key("enter", lambda: e.type("\n" + indent + "    "), pause=0.3)
    await s.typed("type", "return")
    # Delete a line three lines up (dd), then undo it.
    before, cursor = e.text, e.cursor
    start = e.text.rfind("\n", 0, e.text.rfind("\n", 0, e.text.rfind("\n", 0, cursor)))
    end = e.text.find("\n", start + 1)
    await s.key("delete_line", lambda: e.replace(start, end, ""), LOOK_S)
    await s.key("undo", lambda: e.set_text(before, cursor), LOOK_S)
    await asyncio.sleep(1.5)  # a pause: idle time
    e.cursor = far
    await answer((await s.ask("jump", automatic=False)).future, LOOK_MAX_S)
    await s.key("enter", lambda: e.type("\n" + indent), pause=0.3)
    await s.typed("type", "# check the state" if quick else "# the parser state is checked here")
    # Back to the first place; delete a block of five lines above the cursor.
    e.cursor = here
    await answer((await s.ask("jump", automatic=False)).future, LOOK_MAX_S)
    block = e.text.rfind("\n", 0, e.text.rfind("\n", 0, here) - 1)
    top = block
    for _ in range(5):
        top = e.text.rfind("\n", 0, top)
    await s.key("delete_block", lambda: e.replace(top, block, ""), LOOK_S)
    for _ in range(1 if quick else 3):
        await s.key("enter", lambda: e.type("\n" + indent), pause=0.3)
    await s.typed("type", "pass")


def _match(
    sent: list[Sent], history: dict[int, dict[str, Any]]
) -> list[tuple[Sent, dict[str, Any]]]:
    """Pair each model call the server recorded with the request it answered."""
    used: set[int] = set()
    pairs = []
    for n in sorted(history):
        entry = history[n]
        if entry.get("source") not in MODEL_SOURCES:
            continue
        for i, item in enumerate(sent):
            if (
                i not in used
                and item.cursor == entry["offset"]
                and len(item.text) == entry["chars"]
            ):
                used.add(i)
                pairs.append((item, entry))
                break
    return pairs


def measure(
    raw: RawLlama, ctx: BenchContext, root: Path, pairs: list[tuple[Sent, dict[str, Any]]]
) -> dict[str, Any]:
    """Tokens per pattern and latency against raw llama.cpp on the same prompts."""
    from atoll.completion.engine import CompletionEngine
    from atoll.config import load_config

    config = load_config(root, editor=settings()).config
    engine = CompletionEngine(raw.model, detect(raw), config.completion, root=root)
    previous: list[int] = []
    backlog = 0  # what the previous call left unevaluated (cancelled mid-prompt)
    kinds: dict[str, dict[str, list[float]]] = {}
    totals = {"evaluated": 0, "changed": 0}
    ratios: list[float] = []
    lsp_ms: list[float] = []
    raw_ms: list[float] = []
    mismatched = over = 0
    for item, entry in pairs:
        prompt = engine.build_prompt(item.text, item.cursor, root / "argparse.py")
        tokens = raw.tokens(prompt)
        mismatched += len(tokens) != entry.get("prompt_tokens")
        changed = changed_tokens(previous, tokens)
        # Servers that report it say what they evaluated; before that, everything not
        # cached was evaluated (the prompt could not be stopped).
        evaluated = entry.get(
            "evaluated_tokens", entry.get("prompt_tokens", 0) - entry.get("cached_tokens", 0)
        )
        over += evaluated > changed + backlog + TOKEN_SLACK
        done = entry.get("cached_tokens", 0) + evaluated
        backlog = max(0, entry.get("prompt_tokens", 0) - done)
        row = kinds.setdefault(item.kind, {"evaluated": [], "changed": []})
        totals["evaluated"] += evaluated
        totals["changed"] += changed
        row["evaluated"].append(evaluated)
        row["changed"].append(changed)
        ms, _ = raw.run(tokens, entry.get("decode_tokens", 0))
        if item.outcome == "answered" and entry.get("source") in ("model", "empty"):
            lsp_ms.append(item.ms)
            raw_ms.append(ms)
            ratios.append(item.ms / max(ms, 0.1))
        previous = tokens
    return {
        "per_pattern": {
            k: {
                "requests": len(v["evaluated"]),
                "evaluated_tokens": percentiles(v["evaluated"], (50, 95, 100)),
                "changed_tokens": percentiles(v["changed"], (50, 95, 100)),
            }
            for k, v in kinds.items()
        },
        "over_target": over,
        "evaluated_total": totals["evaluated"],
        "changed_total": totals["changed"],
        "prompt_token_mismatches": mismatched,
        "answered_latency_ms": percentiles(lsp_ms),
        "raw_same_prompts_ms": percentiles(raw_ms),
        "latency_ratio_vs_raw": percentiles(ratios),
    }


def detect(raw: RawLlama) -> Any:
    from atoll.completion.templates import detect_template

    return detect_template(raw.model.info, raw.model.name)


async def session(ctx: BenchContext, root: Path, source: str) -> dict[str, Any]:
    path = root / "argparse.py"
    tuned = {k: int(v) for k, v in ctx.options.items() if k in TUNABLE}
    lsp = await start_server(ctx, root, **tuned)
    rss = [lsp.rss_mib()]
    s = Session(Editor(lsp, path, source), random.Random(13))
    started = time.perf_counter()
    try:
        await script(s, ctx.quick)
        for item in s.sent:
            await answer(item.future, 120)
        await asyncio.sleep(0.3)
        await s.poll()
        status = await completion_status(lsp)
        rss.append(lsp.rss_mib())
    finally:
        await lsp.close()
    seconds = time.perf_counter() - started
    pairs = _match(s.sent, s.history)
    raw = RawLlama(ctx.model)
    try:
        numbers = measure(raw, ctx, root, pairs)
    finally:
        raw.close()
    busy = [float(x) for x in status.get("busy_after_cancel_ms", [])]
    outcomes = [item.outcome for item in s.sent]
    return {
        "lines": source.count("\n"),
        "requests": len(s.sent),
        "answered": outcomes.count("answered"),
        "client_cancelled": outcomes.count("cancelled"),
        "model_calls": len(pairs),
        "busy_after_cancel_ms": percentiles(busy, (50, 95, 100)),
        **numbers,
        "stats": status.get("stats", {}),
        "rss_mib": {"start": round(rss[0], 1), "end": round(rss[-1], 1)},
        "seconds": round(seconds, 1),
        "targets": {"tokens_over_changed": TOKEN_SLACK, "busy_after_cancel_ms": 50, "ratio": 1.3},
        "charts": [chart("model busy after a cancel", "hist", {"ms": busy}, xlabel="ms")],
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    root = ctx.scratch("editing")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    source = Path(inspect.getsourcefile(argparse) or "").read_text()
    (root / "argparse.py").write_text(source)
    return asyncio.run(session(ctx, root, source))


SUITE = Suite(
    "editing",
    "a realistic editing session on a 2,600-line file: tokens per keystroke, busy after cancel, "
    "latency vs raw llama.cpp",
    run,
)
