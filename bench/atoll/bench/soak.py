"""Soak: one long LSP session of edits and interleaved requests over a real workspace.

Measures memory growth, latency drift and errors. The same :func:`soak` runs as a
short correctness test (tests/e2e/test_soak.py) and as the long benchmark here.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.bench.harness import REPO, BenchContext, Suite, chart, percentiles
from atoll.bench.lspdriver import LspError, LspProcess, position

ADVERTISED = {
    "textDocument/inlineCompletion": "inlineCompletionProvider",
    "textDocument/hover": "hoverProvider",
    "textDocument/documentSymbol": "documentSymbolProvider",
    "workspace/symbol": "workspaceSymbolProvider",
    "textDocument/codeAction": "codeActionProvider",
}
# Answers that are fine under load: the client cancelled, or the text moved on.
EXPECTED_ERRORS = {-32800, -32801}
VSCODE_LIKE = {
    "textDocument": {
        "inlineCompletion": {},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["", "quickfix", "refactor"]}
            }
        },
        "synchronization": {"didSave": True},
    },
    "window": {"workDoneProgress": True},
    "workspace": {"workspaceEdit": {"documentChanges": True}, "applyEdit": True},
}


@dataclass
class SoakReport:
    edits: int = 0
    offered: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    cancelled: int = 0
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)
    text_matches: bool = False
    alive: bool = False
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        first = self.rss_mib[0] if self.rss_mib else 0.0
        peak = max(self.rss_mib, default=0.0)
        drift: dict[str, Any] = {}
        for method, values in self.latencies_ms.items():
            half = len(values) // 2
            if half >= 5:
                early, late = percentiles(values[:half]), percentiles(values[half:])
                drift[method] = {"early_p50": early["p50"], "late_p50": late["p50"]}
        return {
            "edits": self.edits,
            "offered": self.offered,
            "requests": self.requests,
            "cancelled": self.cancelled,
            "unexpected_errors": {m: len(e) for m, e in self.errors.items()},
            "error_samples": {m: e[:3] for m, e in self.errors.items()},
            "latency_ms": {m: percentiles(v) for m, v in self.latencies_ms.items()},
            "latency_drift_ms": drift,
            "rss_mib": {
                "start": round(first, 1),
                "peak": round(peak, 1),
                "end": round(self.rss_mib[-1] if self.rss_mib else 0.0, 1),
                "growth": round((self.rss_mib[-1] - first) if self.rss_mib else 0.0, 1),
            },
            "text_matches": self.text_matches,
            "alive": self.alive,
            "seconds": round(self.seconds, 1),
        }


def _keystroke(rng: random.Random, cursor: int, words: list[str]) -> tuple[int, int, str]:
    """One edit as (start, end, new text): mostly characters, some newlines and backspaces."""
    roll = rng.random()
    if roll < 0.08 and cursor > 0:
        return cursor - 1, cursor, ""
    if roll < 0.15:
        return cursor, cursor, "\n    "
    new = (
        rng.choice(words)[: rng.randint(1, 3)]
        if rng.random() < 0.3
        else rng.choice("abcxyz_ (.)=:,")
    )
    return cursor, cursor, new


def _request_params(
    method: str, uri: str, pos: dict[str, int], rng: random.Random, words: list[str]
) -> dict[str, Any]:
    """The params an editor sends for ``method`` at the cursor."""
    if method == "workspace/symbol":
        return {"query": rng.choice(words)[:4]}
    if method == "textDocument/codeAction":
        return {
            "textDocument": {"uri": uri},
            "range": {"start": pos, "end": pos},
            "context": {"diagnostics": []},
        }
    if method == "textDocument/documentSymbol":
        return {"textDocument": {"uri": uri}}
    params: dict[str, Any] = {"textDocument": {"uri": uri}, "position": pos}
    if method == "textDocument/inlineCompletion":
        params["context"] = {"triggerKind": 2}
    return params


@dataclass
class _Session:
    """The typed file as the server should see it, and the requests still unanswered."""

    server: LspProcess
    uri: str
    text: str
    words: list[str]
    methods: list[str]
    version: int = 1
    cursor: int = 0
    in_flight: list[tuple[str, int, float, asyncio.Future[Any]]] = field(default_factory=list)

    def type_one(self, rng: random.Random, report: SoakReport) -> None:
        start, end, new = _keystroke(rng, self.cursor, self.words)
        range_ = {"start": position(self.text, start), "end": position(self.text, end)}
        self.text = self.text[:start] + new + self.text[end:]
        self.cursor = start + len(new)
        self.version += 1
        self.server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{"range": range_, "text": new}],
            },
        )
        report.edits += 1

    def ask(self, method: str, rng: random.Random, report: SoakReport) -> None:
        pos = position(self.text, self.cursor)
        params = _request_params(method, self.uri, pos, rng, self.words)
        request_id, future = self.server.send(method, params)
        report.requests[method] = report.requests.get(method, 0) + 1
        if method == "textDocument/inlineCompletion" and rng.random() < 0.5:
            self.server.cancel(request_id)  # the user typed on: as an editor does
            report.cancelled += 1
        self.in_flight.append((method, request_id, time.perf_counter(), future))


async def _open(server: LspProcess, workspace: Path, settings: dict[str, Any] | None) -> _Session:
    init = await server.initialize(workspace, VSCODE_LIKE, settings)
    caps = init.get("capabilities", {})
    path = workspace / "inventory" / "models.py"
    text = path.read_text()
    document = {"uri": path.as_uri(), "languageId": "python", "version": 1, "text": text}
    server.notify("textDocument/didOpen", {"textDocument": document})
    words = re.findall(r"[A-Za-z_]+", text) or ["x"]
    # As an editor does, ask only for what the server advertises.
    # An empty options object ({}) advertises a capability too.
    methods = [m for m, cap in ADVERTISED.items() if caps.get(cap) not in (None, False)]
    return _Session(server, path.as_uri(), text, words, methods, cursor=len(text))


async def soak(
    workspace: Path,
    *,
    edits: int,
    request_every: int = 10,
    seed: int = 7,
    env: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
) -> SoakReport:
    """Type ``edits`` keystrokes into a file, with a request every ``request_every`` edits."""
    rng = random.Random(seed)
    report = SoakReport()
    started = time.perf_counter()
    server = await LspProcess.start(env=env)
    try:
        session = await _open(server, workspace, settings)
        methods = report.offered = session.methods
        report.rss_mib.append(server.rss_mib())
        for i in range(edits):
            session.type_one(rng, report)
            if methods and i % request_every == 0:
                session.ask(methods[(i // request_every) % len(methods)], rng, report)
            if len(session.in_flight) >= 4 or i == edits - 1:
                await _settle(session.in_flight, report)
            if i % 500 == 0:
                report.rss_mib.append(server.rss_mib())
                await asyncio.sleep(0)
        await _settle(session.in_flight, report)
        status = await server.request("workspace/executeCommand", {"command": "atoll.status"})
        docs = {d["uri"]: d for d in status.get("documents", [])}
        digest = hashlib.sha256(session.text.encode("utf-8", "surrogatepass")).hexdigest()
        report.text_matches = docs.get(session.uri, {}).get("sha256") == digest
        report.alive = True
        report.rss_mib.append(server.rss_mib())
    finally:
        await server.close()
        report.seconds = time.perf_counter() - started
    return report


async def _settle(
    in_flight: list[tuple[str, int, float, asyncio.Future[Any]]], report: SoakReport
) -> None:
    for method, _, sent, future in in_flight:
        try:
            await asyncio.wait_for(future, 120)
            report.latencies_ms.setdefault(method, []).append((time.perf_counter() - sent) * 1000)
        except LspError as exc:
            if exc.code not in EXPECTED_ERRORS:
                report.errors.setdefault(method, []).append(f"{exc.code}: {exc}")
        except TimeoutError:
            report.errors.setdefault(method, []).append("timeout after 120 s")
    in_flight.clear()


def run(ctx: BenchContext) -> dict[str, Any]:
    workspace = ctx.scratch("soak") / "ws"
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(REPO / "samples" / "workspace", workspace)
    edits = 2_000 if ctx.quick else 20_000
    env = {"ATOLL_INDEXING_EMBEDDINGS": "0"}
    if ctx.model:
        env["ATOLL_MODELS_GGUF"] = ctx.model
    if ctx.endpoint:
        env["ATOLL_COMPLETION_ENDPOINT_BASE_URL"] = ctx.endpoint
    report = asyncio.run(soak(workspace, edits=edits, env=env))
    summary = report.summary()
    summary["charts"] = [
        chart(
            "soak: request latency",
            "hist",
            {m.split("/")[-1]: v for m, v in report.latencies_ms.items()},
            xlabel="ms",
        ),
        chart(
            "soak: server memory",
            "line",
            {"RSS MiB": report.rss_mib},
            xlabel="sample (every 500 edits)",
            ylabel="MiB",
        ),
    ]
    return summary


SUITE = Suite("soak", "20,000 edits with interleaved requests in one LSP session", run)
