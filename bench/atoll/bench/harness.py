"""Discover suites, run them, and record each run with its machine facts."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class BenchContext:
    """What a suite may use: where to write, which model or endpoint, how big to go."""

    out: Path
    model: str = ""  # a GGUF path; empty: the configured or demo model
    endpoint: str = ""  # an OpenAI-compatible base URL; empty: in-process model
    quick: bool = False  # small sizes for a smoke run
    options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Suites hand paths to subprocesses and file URIs: never a relative folder.
        object.__setattr__(self, "out", self.out.resolve())

    def scratch(self, name: str) -> Path:
        path = self.out / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    run: Callable[[BenchContext], dict[str, Any]]


def chart(
    title: str,
    kind: str,
    series: dict[str, list[float]],
    *,
    x: Sequence[float] | Sequence[str] | None = None,
    xlabel: str = "",
    ylabel: str = "",
) -> dict[str, Any]:
    """A chart spec a suite puts under ``results["charts"]``; the report draws it.

    ``kind``: "hist" (distributions, e.g. latencies), "line" (y over ``x``), or
    "bar" (one value per ``x`` label per series).
    """
    if kind not in {"hist", "line", "bar"}:
        raise ValueError(f"unknown chart kind {kind!r}")
    return {
        "title": title,
        "kind": kind,
        "series": series,
        "x": x,
        "xlabel": xlabel,
        "ylabel": ylabel,
    }


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95)) -> dict[str, float]:
    """``{"p50": .., "p95": .., "mean": .., "n": ..}`` of a sample (empty -> zeros)."""
    ordered = sorted(values)
    out: dict[str, float] = {"n": float(len(ordered))}
    for p in points:
        if not ordered:
            out[f"p{p}"] = 0.0
            continue
        rank = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        out[f"p{p}"] = round(ordered[rank], 3)
    out["mean"] = round(sum(ordered) / len(ordered), 3) if ordered else 0.0
    return out


def discover_suites() -> dict[str, Suite]:
    """Every module of this package that defines ``SUITE``."""
    import atoll.bench as package

    suites: dict[str, Suite] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "harness":
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        suite = getattr(module, "SUITE", None)
        if isinstance(suite, Suite):
            suites[suite.name] = suite
    return suites


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for dist in (
        "atoll",
        "llama-cpp-python",
        "pygls",
        "qdrant-edge-py",
        "qdrant-client",
        "tree-sitter",
        "sentence-transformers",
        "torch",
    ):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = "missing"
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "commit": _git_commit(),
        "versions": versions,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run_suites(
    names: Sequence[str], ctx: BenchContext, on_event: Callable[[str, str], None] | None = None
) -> dict[str, Any]:
    """Run the named suites (all when empty); a failing suite is recorded, not fatal."""
    suites = discover_suites()
    unknown = [n for n in names if n not in suites]
    if unknown:
        raise KeyError(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(suites)}")
    ctx.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine_facts(),
        "model": ctx.model or "(configured or demo)",
        "endpoint": ctx.endpoint or "(in-process)",
        "quick": ctx.quick,
        "suites": {},
    }
    for name in names or list(suites):
        if on_event:
            on_event("start", name)
        started = time.perf_counter()
        try:
            data = suites[name].run(ctx)
            entry: dict[str, Any] = {"ok": True, "results": data}
        except Exception as exc:
            entry = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        entry["seconds"] = round(time.perf_counter() - started, 2)
        results["suites"][name] = entry
        (ctx.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
        if on_event:
            on_event("done" if entry["ok"] else "failed", name)
    return results
