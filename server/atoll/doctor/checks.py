"""The check registry and the checks that need nothing but the local machine.

Each check is a plain function ``(DoctorContext) -> list[CheckResult]`` registered
with :func:`check`; the other modules of :mod:`atoll.doctor` add theirs (endpoints,
vector store, index, editor). Keep network timeouts short (``ctx.timeout_s``) so
``atoll doctor`` answers in seconds even when a server is down.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from atoll.config import LoadedConfig, flatten, is_secret


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""
    # A failed required check makes `atoll doctor` exit non-zero.
    required: bool = True

    @property
    def broken(self) -> bool:
        return self.status is Status.FAIL and self.required


@dataclass(frozen=True)
class DoctorContext:
    workspace: Path
    loaded: LoadedConfig
    # Per network request; a doctor that hangs on a dead server is no doctor.
    timeout_s: float = 3.0


CheckFn = Callable[[DoctorContext], list[CheckResult]]
CHECKS: list[CheckFn] = []


def check(fn: CheckFn) -> CheckFn:
    CHECKS.append(fn)
    return fn


def secrets_of(loaded: LoadedConfig) -> list[str]:
    """Every configured secret value (API keys), longest first, for redaction."""
    values = [str(v) for k, v in flatten(loaded.config).items() if is_secret(k) and v]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def run_checks(ctx: DoctorContext, checks: list[CheckFn] | None = None) -> list[CheckResult]:
    """Run ``checks`` (default: all registered) in order; keys never reach the output."""
    results: list[CheckResult] = []
    for fn in checks or CHECKS:
        try:
            results.extend(fn(ctx))
        except Exception as exc:  # a broken check is itself a finding, not a crash
            results.append(CheckResult(fn.__name__, Status.FAIL, f"check crashed: {exc!r}"))
    secrets = secrets_of(ctx.loaded)
    return [
        replace(r, detail=redact(r.detail, secrets), fix=redact(r.fix, secrets)) for r in results
    ]


@check
def python_version(ctx: DoctorContext) -> list[CheckResult]:
    ok = sys.version_info >= (3, 11)
    return [
        CheckResult(
            "python",
            Status.OK if ok else Status.FAIL,
            f"Python {sys.version.split()[0]} at {sys.executable}",
            "" if ok else "atoll needs Python 3.11 or newer",
        )
    ]


@check
def config_layers(ctx: DoctorContext) -> list[CheckResult]:
    if not ctx.loaded.issues:
        changed = sorted({o for o in ctx.loaded.origins.values() if o != "default"})
        detail = "defaults" + (" + " + ", ".join(changed) if changed else "")
        return [CheckResult("config", Status.OK, detail)]
    return [
        CheckResult(
            "config",
            Status.WARN,
            str(issue),
            "fix or remove the setting; the default is used meanwhile",
            required=False,
        )
        for issue in ctx.loaded.issues
    ]


@check
def native_libraries(ctx: DoctorContext) -> list[CheckResult]:
    out = []
    for module, what, fix in (
        ("llama_cpp", "llama-cpp-python", "pip install 'llama-cpp-python[server]'"),
        (
            "tree_sitter_language_pack",
            "tree-sitter grammars",
            "pip install 'tree-sitter-language-pack<0.14'",
        ),
        ("qdrant_edge", "Qdrant Edge (embedded vector store)", "pip install qdrant-edge-py"),
    ):
        found = importlib.util.find_spec(module) is not None
        out.append(
            CheckResult(
                what,
                Status.OK if found else Status.FAIL,
                "installed" if found else "not installed",
                "" if found else fix,
            )
        )
    return out
