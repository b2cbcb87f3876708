"""Each check is a plain function ``(DoctorContext) -> list[CheckResult]``.

Add a check by decorating it with :func:`check`; keep network timeouts short so
`atoll doctor` answers in seconds even when a server is down.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from atoll.config import LoadedConfig, ModelNotFoundError, resolve_embedding, resolve_gguf


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


@dataclass(frozen=True)
class DoctorContext:
    workspace: Path
    loaded: LoadedConfig


CheckFn = Callable[[DoctorContext], list[CheckResult]]
CHECKS: list[CheckFn] = []


def check(fn: CheckFn) -> CheckFn:
    CHECKS.append(fn)
    return fn


def run_checks(ctx: DoctorContext, checks: list[CheckFn] | None = None) -> list[CheckResult]:
    results: list[CheckResult] = []
    for fn in checks or CHECKS:
        try:
            results.extend(fn(ctx))
        except Exception as exc:  # a broken check is itself a finding, not a crash
            results.append(CheckResult(fn.__name__, Status.FAIL, f"check crashed: {exc!r}"))
    return results


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
def local_models(ctx: DoctorContext) -> list[CheckResult]:
    config = ctx.loaded.config
    out: list[CheckResult] = []
    try:
        gguf = resolve_gguf(config)
        note = " (demo-size model; set models.gguf for real use)" if gguf.demo else ""
        out.append(CheckResult("gguf model", Status.OK, f"{gguf.path}{note}"))
    except ModelNotFoundError as exc:
        # Not required when completion goes to a server instead.
        remote = bool(config.completion.endpoint.base_url)
        out.append(
            CheckResult(
                "gguf model", Status.WARN if remote else Status.FAIL, str(exc), required=not remote
            )
        )
    try:
        emb = resolve_embedding(config)
        note = " (demo-size model)" if emb.demo else ""
        out.append(CheckResult("embedding model", Status.OK, f"{emb.path}{note}"))
    except ModelNotFoundError as exc:
        out.append(CheckResult("embedding model", Status.WARN, str(exc), required=False))
    return out


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
