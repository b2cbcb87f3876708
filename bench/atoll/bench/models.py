"""Models: how many llama.cpp instances one ``atoll serve`` holds, whatever features run.

One session on the sample workspace with the in-process model and no endpoint: an
inline completion, a hover explanation, then a crew task (``atoll.delegate``) on the
same model. Sampled every 0.2 s: the server's resident memory and how many times the
GGUF file is mapped into it (each loaded ``Llama`` maps it once). The target: one
instance, so one mapping, and memory that does not grow by a model's size when the
crew starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

from atoll.bench._session import completion_status, start_server
from atoll.bench.harness import REPO, BenchContext, Suite, chart
from atoll.bench.lspdriver import LspError, LspProcess

CREW = {"max_steps": 2, "max_tokens": 96, "wall_clock_s": 240.0}


def gguf_mappings(pid: int, path: Path) -> int:
    """Mappings of ``path`` in the process (a loaded Llama maps its file once)."""
    target = str(path.resolve())
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if line.endswith(target))


class Sampler:
    """Memory and mappings of the server, every 0.2 s, with labelled moments."""

    def __init__(self, lsp: LspProcess, gguf: Path) -> None:
        self.lsp, self.gguf = lsp, gguf
        self.rss: list[float] = []
        self.maps: list[int] = []
        self.marks: dict[str, float] = {}
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.2)

    def sample(self) -> None:
        self.rss.append(round(self.lsp.rss_mib(), 1))
        self.maps.append(gguf_mappings(self.lsp.pid, self.gguf))

    def mark(self, name: str) -> None:
        self.sample()
        self.marks[name] = self.rss[-1]

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def session(ctx: BenchContext, root: Path, gguf: Path) -> dict[str, Any]:
    lsp = await start_server(ctx, root)
    sampler = Sampler(lsp, gguf)
    outcome: dict[str, Any] = {}
    try:
        sampler.mark("completion_ready")
        models = root / "inventory" / "models.py"
        uri = models.as_uri()
        text = models.read_text()
        lsp.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        at = {"line": 18, "character": 15}
        await lsp.request(
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": uri}, "position": at, "context": {"triggerKind": 1}},
        )
        for _ in range(2):  # the second hover shows the explanation the first started
            await lsp.request(
                "textDocument/hover",
                {"textDocument": {"uri": uri}, "position": {"line": 8, "character": 7}},
            )
            await asyncio.sleep(3)
        sampler.mark("after_completion_and_hover")
        started = time.perf_counter()
        try:
            result = await lsp.request(
                "workspace/executeCommand",
                {
                    "command": "atoll.delegate",
                    "arguments": [
                        {"task": "Add a docstring to Inventory.add in inventory/models.py."}
                    ],
                },
                timeout=600,
            )
            outcome = {"status": result.get("status"), "message": str(result.get("message"))[:200]}
        except (LspError, TimeoutError) as exc:
            outcome = {"status": "error", "message": str(exc)[:200]}
        outcome["seconds"] = round(time.perf_counter() - started, 1)
        sampler.mark("after_crew")
        status = await completion_status(lsp)
    finally:
        await sampler.stop()
        await lsp.close()
    return {
        "gguf_mappings_max": max(sampler.maps, default=0),
        "gguf_mappings_at_end": sampler.maps[-1] if sampler.maps else 0,
        "rss_mib": {**sampler.marks, "peak": max(sampler.rss, default=0.0)},
        "crew": outcome,
        "registry": status.get("models", "not reported"),
        "charts": [
            chart(
                "server memory over the session",
                "line",
                {"RSS MiB": sampler.rss},
                xlabel="sample (0.2 s)",
                ylabel="MiB",
            ),
        ],
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    from atoll.config import AtollConfig
    from atoll.config.models import resolve_gguf

    root = ctx.scratch("models") / "ws"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "samples" / "workspace", root)
    (root / "atoll.toml").write_text(
        "[agents]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in CREW.items())
    )
    gguf = Path(ctx.model) if ctx.model else resolve_gguf(AtollConfig()).path
    return asyncio.run(session(ctx, root, gguf))


SUITE = Suite(
    "models",
    "llama.cpp instances and memory of one server running completion, hover and a crew task",
    run,
)
