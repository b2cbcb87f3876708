"""One harness for the crew, the solo agent and a single-shot prompt: same model, same tasks.

Each answer is checked by the problem's hidden tests (pytest in a subprocess with time,
CPU and memory limits; see :mod:`atoll.bench.crew_tasks` for the tiers). Per mode it
reports pass@1 (pass@k with ``samples``), the valid-action rate (answers that were a
usable action: a known tool with its required arguments), tool calls, tokens and
seconds, and per role for the crew.

``atoll bench crew --endpoint http://gpu-box:8000/v1`` measures a real vLLM; without an
endpoint the in-process demo model runs. Options (``--option NAME=VALUE``, or
``ATOLL_BENCH_CREW_<NAME>``): ``modes`` (single,crew,solo), ``tiers``
(small,humaneval,requirements), ``humaneval`` (count), ``samples`` (k), ``temperature``
(with samples > 1), ``protocol`` (auto, native, constrained, text), ``steps``,
``max_tokens``, ``roles``, ``model_name``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from atoll.bench.crew_tasks import (
    TIERS,
    Problem,
    problems,
    run_hidden_tests,
    workspace,
)
from atoll.bench.harness import BenchContext, Suite, chart

MODES = ("single", "crew", "solo")
SINGLE_SHOT_SYSTEM = (
    "You are an expert programmer. Answer with code only: one fenced block per file, "
    "and the first line of each block is a comment `# file: NAME`."
)
SINGLE_SHOT_JSON = (
    "You are an expert programmer. Answer with the files to write, as JSON: "
    '{"files": [{"path": NAME, "content": THE WHOLE FILE}]}.'
)
FILES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "files": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                "required": ["path", "content"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["files"],
    "additionalProperties": False,
}
_BLOCK = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n(.*?)```", re.DOTALL)
_FILE_LINE = re.compile(r"^(?:#|//)\s*file:\s*(\S+)\s*\n")
ROLE_KEYS = (
    "seconds",
    "prompt_tokens",
    "completion_tokens",
    "steps",
    "tool_calls",
    "action_turns",
    "valid_actions",
)


@dataclass
class Outcome:
    passed: bool
    seconds: float
    tokens: int
    tool_calls: int = 0
    action_turns: int = 0
    valid_actions: int = 0
    status: str = "done"
    reason: str = ""
    per_role: dict[str, dict[str, float]] = field(default_factory=dict)


def parse_single_shot(answer: str, problem: Problem) -> dict[str, str]:
    """Files from a single-shot answer: ``# file: NAME`` blocks, or one block for the target."""
    files: dict[str, str] = {}
    blocks = _BLOCK.findall(answer) or ([answer] if "def " in answer else [])
    for block in blocks:
        named = _FILE_LINE.match(block)
        if named:
            files[named.group(1)] = block[named.end() :]
        elif problem.target not in files:
            files[problem.target] = block
    code = files.get(problem.target)
    if code is not None and problem.entry_point and f"def {problem.entry_point}(" not in code:
        files[problem.target] = problem.prompt_prefix + code  # a body-only answer
    return files


def parse_json_files(answer: str) -> dict[str, str]:
    """Files from a constrained single-shot answer (``FILES_SCHEMA``)."""
    try:
        data = json.loads(answer)
        return {str(f["path"]): str(f["content"]) for f in data["files"]}
    except (ValueError, KeyError, TypeError):
        return {}


def _decoding(model: Any, protocol: str) -> str:
    if protocol == "text":  # no import: the baseline also runs on code from before it
        return "text"
    from atoll.agents.decoding import choose_decoding

    return choose_decoding(protocol, model.capabilities)  # type: ignore[arg-type]


def single_shot(
    model: Any, problem: Problem, base: Path, protocol: str, max_tokens: int
) -> Outcome:
    ws = workspace(base, problem)
    constrained = _decoding(model, protocol) == "constrained"
    listing = "\n\n".join(f"# file: {n}\n```\n{t}\n```" for n, t in problem.files.items())
    system = SINGLE_SHOT_JSON if constrained else SINGLE_SHOT_SYSTEM
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{problem.task}\n\n{listing}".strip()},
    ]
    started = time.perf_counter()
    try:
        extra = {"schema": FILES_SCHEMA} if constrained else {}
        reply = model.complete(messages, max_tokens=max_tokens, **extra)
    except Exception as exc:
        return Outcome(False, time.perf_counter() - started, 0, status="failed", reason=str(exc))
    seconds = time.perf_counter() - started
    files = (
        parse_json_files(reply.content)
        if constrained
        else parse_single_shot(reply.content, problem)
    )
    for name, text in files.items():
        target = (ws / name).resolve()
        if ws.resolve() in target.parents:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    passed, _ = run_hidden_tests(ws, problem.hidden_test)
    return Outcome(passed, seconds, reply.usage.total, 0, 1, int(bool(files)))


def _transcript_counts(run_dir: Path, reason: str) -> tuple[int, int]:
    """(action turns, valid actions) from a transcript, for code without those stats.

    Every answer without a usable action got a correcting reply, but the last one of a
    role that gave up.
    """
    kinds = [json.loads(line)["kind"] for line in (run_dir / "transcript.jsonl").open()]
    turns = kinds.count("assistant")
    invalid = kinds.count("correction") + ("without a valid action" in reason)
    return turns, turns - invalid


def agent_run(model: Any, problem: Problem, base: Path, settings: Any) -> Outcome:
    """The crew (or the solo agent: a one-role pipeline) on the problem; its diff applied."""
    from atoll.agents import CrewRun
    from atoll.agents.apply import apply_diff

    ws = workspace(base, problem)
    started = time.perf_counter()
    run = CrewRun.start(ws, problem.task, model_for=lambda role: model, settings=settings)
    result = run.run()
    seconds = time.perf_counter() - started
    apply_diff(result.diff, ws)
    passed, _ = run_hidden_tests(ws, problem.hidden_test)
    per_role = {
        name: {k: round(float(getattr(s, k, 0)), 2) for k in ROLE_KEYS}
        for name, s in result.stats.items()
    }
    if not any("action_turns" in vars(s) for s in result.stats.values()):
        turns, valid = _transcript_counts(result.run_dir, result.reason)
    else:
        turns = sum(s.action_turns for s in result.stats.values())
        valid = sum(s.valid_actions for s in result.stats.values())
    # The run's folder (staged copy, transcript) goes next to the results, not into the
    # user's cache where runs of real work live.
    kept = base / "runs" / ws.name
    shutil.rmtree(kept, ignore_errors=True)
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(result.run_dir), kept)
    tokens = sum(s.prompt_tokens + s.completion_tokens for s in result.stats.values())
    calls = sum(s.tool_calls for s in result.stats.values())
    return Outcome(
        passed, seconds, tokens, calls, turns, valid, result.status, result.reason, per_role
    )


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from n samples of which c passed (Chen et al.)."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def summarise(outcomes: dict[str, list[Outcome]], tiers: dict[str, str]) -> dict[str, Any]:
    """One mode's numbers over every problem and sample."""
    flat = [o for samples in outcomes.values() for o in samples]
    n = max((len(s) for s in outcomes.values()), default=1)
    per_role: dict[str, dict[str, float]] = {}
    for outcome in flat:
        for role, numbers in outcome.per_role.items():
            total = per_role.setdefault(role, {})
            for key, value in numbers.items():
                total[key] = round(total.get(key, 0) + value, 2)
    for numbers in per_role.values():
        if numbers.get("action_turns"):  # code from before these counts has none
            numbers["valid_action_rate"] = round(
                numbers["valid_actions"] / numbers["action_turns"], 3
            )
    turns = sum(o.action_turns for o in flat)

    def at(k: int, ids: list[str]) -> float:
        scores = [pass_at_k(len(outcomes[i]), sum(o.passed for o in outcomes[i]), k) for i in ids]
        return round(sum(scores) / max(1, len(scores)), 3)

    ids = list(outcomes)
    by_tier = {t: at(1, [i for i in ids if tiers[i] == t]) for t in dict.fromkeys(tiers.values())}
    return {
        "pass_at_1": at(1, ids),
        **({f"pass_at_{n}": at(n, ids)} if n > 1 else {}),
        "by_tier": by_tier,
        "valid_action_rate": round(sum(o.valid_actions for o in flat) / turns, 3) if turns else 0.0,
        "action_turns": turns,
        "tool_calls": sum(o.tool_calls for o in flat),
        "passed": sorted(i for i in ids if any(o.passed for o in outcomes[i])),
        "seconds": round(sum(o.seconds for o in flat), 2),
        "tokens": sum(o.tokens for o in flat),
        **({"per_role": per_role} if per_role else {}),
    }


def _option(ctx: BenchContext, name: str, default: object) -> str:
    """``ctx.options[name]``, else ``$ATOLL_BENCH_CREW_<NAME>``, else ``default``."""
    return (
        ctx.options.get(name) or os.environ.get(f"ATOLL_BENCH_CREW_{name.upper()}") or str(default)
    )


def _model(ctx: BenchContext) -> Any:
    from atoll.agents import LlamaCppChatModel, OpenAIChatModel

    if ctx.endpoint:
        model = OpenAIChatModel(ctx.endpoint, _option(ctx, "model_name", ""), timeout_s=300)
        model.check()
        return model
    if ctx.model:
        return LlamaCppChatModel(Path(ctx.model), n_ctx=4096)
    from atoll.config import AtollConfig
    from atoll.config.models import resolve_gguf

    return LlamaCppChatModel(resolve_gguf(AtollConfig()).path, n_ctx=4096)


def _settings(ctx: BenchContext, roles: tuple[str, ...], protocol: str) -> Any:
    from atoll.agents import CrewSettings, RoleLimits

    real = bool(ctx.endpoint)
    limits = RoleLimits(
        max_steps=int(_option(ctx, "steps", 12 if real else 6)),
        max_tokens_per_call=int(_option(ctx, "max_tokens", 1024 if real else 256)),
        context_chars=4 * (24000 if real else 2600),
    )
    return CrewSettings(
        roles=roles,
        max_review_rounds=1,
        max_fix_rounds=2 if real else 1,
        wall_clock_s=600.0 if real else 180.0,
        command_timeout_s=30.0,
        tool_protocol=protocol,  # type: ignore[arg-type]
        limits={role: limits for role in roles},
    )


def _charts(
    model: str, modes: dict[str, dict[str, Any]], seconds: dict[str, list[float]], ids: list[str]
) -> list[dict[str, Any]]:
    by_mode = [
        chart(title, "bar", {mode: [n[key]] for mode, n in modes.items()}, x=[model], ylabel=unit)
        for key, title, unit in (
            ("pass_at_1", "pass@1 by mode", "pass@1"),
            ("valid_action_rate", "valid-action rate by mode", "valid actions / answers"),
        )
    ]
    return [*by_mode, chart("seconds per problem", "bar", seconds, x=ids, ylabel="s")]


def run(ctx: BenchContext) -> dict[str, Any]:
    real = bool(ctx.endpoint)
    modes = tuple(_option(ctx, "modes", ",".join(MODES)).split(","))
    default_tiers = ("small", "humaneval") if ctx.quick and not real else TIERS
    tiers = tuple(_option(ctx, "tiers", ",".join(default_tiers)).split(","))
    chosen = problems(tiers, int(_option(ctx, "humaneval", 1 if ctx.quick else 2)))
    samples = max(1, int(_option(ctx, "samples", 1)))
    protocol = _option(ctx, "protocol", "auto")
    max_tokens = int(_option(ctx, "max_tokens", 1024 if real else 256))
    roles = tuple(_option(ctx, "roles", "architect,coder,reviewer,tester").split(","))
    settings = {
        "crew": _settings(ctx, roles, protocol),
        "solo": _settings(ctx, ("solo",), protocol),
    }
    model = _model(ctx)
    if samples > 1:  # pass@k needs different answers: sample, with one seed per sample
        model.temperature = float(_option(ctx, "temperature", 0.7))
    base = ctx.scratch("crew")
    outcomes: dict[str, dict[str, list[Outcome]]] = {m: {} for m in modes}
    for problem in chosen:
        for sample in range(samples):
            model.seed = sample if samples > 1 else None
            for mode in modes:
                folder = base / mode / f"s{sample}"
                outcome = (
                    single_shot(model, problem, folder, protocol, max_tokens)
                    if mode == "single"
                    else agent_run(model, problem, folder, settings[mode])
                )
                outcomes[mode].setdefault(problem.id, []).append(outcome)
    tiers_of = {p.id: p.tier for p in chosen}
    summary = {mode: summarise(found, tiers_of) for mode, found in outcomes.items()}
    ids = [p.id for p in chosen]
    seconds = {m: [round(sum(o.seconds for o in outcomes[m][i]), 1) for i in ids] for m in modes}
    name = str(getattr(model, "name", "model"))
    return {
        "charts": _charts(name, summary, seconds, ids),
        "model": name,
        "problems": ids,
        "settings": {
            "roles": list(roles),
            "protocol": protocol,
            "samples": samples,
            "max_tokens": max_tokens,
        },
        "modes": summary,
        "per_problem": _per_problem(outcomes, ids),
    }


def _per_problem(outcomes: dict[str, dict[str, list[Outcome]]], ids: list[str]) -> dict[str, Any]:
    def row(o: Outcome) -> dict[str, Any]:
        return {
            "passed": o.passed,
            "status": o.status,
            "reason": o.reason,
            "seconds": round(o.seconds, 2),
            "tokens": o.tokens,
            "valid": f"{o.valid_actions}/{o.action_turns}",
        }

    return {
        pid: {mode: [row(o) for o in found[pid]] for mode, found in outcomes.items()} for pid in ids
    }


SUITE = Suite(
    "crew",
    "crew vs solo agent vs single-shot on the same model: pass@1 (pass@k), valid-action "
    "rate, tool calls, tokens and seconds per role, on small tasks, HumanEval and 3 "
    "requirement docs",
    run,
)
