"""What containment costs a crew run: the sandbox's start-up per command, and staging.

Each command runs three ways, interleaved so the machine's noise hits all alike: plain
``bash -c`` (the baseline), atoll's sandbox in ``unsandboxed`` mode (its own limits and
output capture, no bubblewrap), and the bubblewrap sandbox. The ratios against the
baseline are the result; absolute milliseconds are only this machine's.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from atoll.bench.harness import BenchContext, Suite, percentiles

COMMANDS = {"true": "true", "python": "python3 -c pass", "git status": "git status --short"}


def _direct(command: str, work: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000


def _sandboxed(sandbox: Any, command: str) -> float:
    started = time.perf_counter()
    sandbox.run(command, timeout_s=30)
    return (time.perf_counter() - started) * 1000


def _staging(ctx: BenchContext, repeats: int) -> dict[str, float]:
    from atoll.agents.staging import StagedWorkspace

    source = Path(__file__).resolve().parents[3] / "samples" / "workspace"
    times = []
    for i in range(repeats):
        run_dir = ctx.scratch("sandbox") / f"stage-{i}"
        shutil.rmtree(run_dir, ignore_errors=True)
        started = time.perf_counter()
        StagedWorkspace.create(source, run_dir)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def run(ctx: BenchContext) -> dict[str, Any]:
    from atoll.agents.sandbox import Sandbox, SandboxPolicy, minimal_environment, probe

    repeats = 5 if ctx.quick else 30
    work = ctx.scratch("sandbox") / "work"
    work.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=work, check=False)
    status = probe(SandboxPolicy())
    bwrap = Sandbox(SandboxPolicy(), work) if status.available else None
    plain = Sandbox(SandboxPolicy(mode="unsandboxed"), work)
    env = minimal_environment()  # the same PATH, so each way runs the same programs
    out: dict[str, Any] = {"bwrap": status.to_json(), "repeats": repeats, "commands": {}}
    for name, command in COMMANDS.items():
        samples: dict[str, list[float]] = {"direct": [], "unsandboxed": [], "bwrap": []}
        for _ in range(repeats):
            samples["direct"].append(_direct(command, work, env))
            samples["unsandboxed"].append(_sandboxed(plain, command))
            if bwrap is not None:
                samples["bwrap"].append(_sandboxed(bwrap, command))
        row: dict[str, Any] = {m: percentiles(v) for m, v in samples.items() if v}
        base = row["direct"]["p50"] or 1.0
        if bwrap is not None:
            row["bwrap_over_direct_p50"] = round(row["bwrap"]["p50"] / base, 2)
            row["bwrap_extra_ms_p50"] = round(row["bwrap"]["p50"] - base, 1)
        out["commands"][name] = row
    out["staging_ms"] = _staging(ctx, 3 if ctx.quick else 10)
    return out


SUITE = Suite("sandbox", "The crew's sandbox: start-up per command, and staging a run", run)
