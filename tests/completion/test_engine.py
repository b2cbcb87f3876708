"""The engine's order of business with a scripted model (no llama.cpp needed)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

from atoll.completion.engine import CompletionEngine, CompletionRequest
from atoll.completion.protocols import Generation, ModelUnavailableError, Prompt
from atoll.completion.templates import template_by_name
from atoll.config.schema import CompletionConfig


class ScriptedModel:
    """Answers with fixed text, one 'token' per character, honouring cancel."""

    name = "scripted"
    backend = "scripted"

    def __init__(self, answer: str, *, per_token_s: float = 0.0, down: bool = False) -> None:
        self.answer = answer
        self.per_token_s = per_token_s
        self.down = down
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def complete(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Generation:
        if self.down:
            raise ModelUnavailableError("down")
        self.prompts.append(prompt.text)
        out = ""
        for ch in self.answer[:max_tokens]:
            if cancel is not None and cancel.is_set():
                return Generation(out, decode_tokens=len(out), finish="cancelled")
            await asyncio.sleep(self.per_token_s)
            out += ch
        return Generation(out, prompt_tokens=10, cached_tokens=4, decode_tokens=len(out))

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str:
        return self.answer

    def close(self) -> None:
        pass


CONFIG = CompletionConfig(debounce_ms=0)
TEXT = "def add(a, b):\n    return a\n"
AT = TEXT.index("\n", 15)


def engine(model: ScriptedModel, **config: object) -> CompletionEngine:
    return CompletionEngine(model, template_by_name("qwen"), replace(CONFIG, **config))  # type: ignore[arg-type]


async def test_model_then_cache_then_typeahead() -> None:
    model = ScriptedModel(" + b\nprint()")
    eng = engine(model)
    request = CompletionRequest("u", TEXT, AT)
    first = await eng.complete(request)
    assert (first.text, first.source, first.multiline) == (" + b", "model", False)
    assert first.timings_ms["total"] >= first.timings_ms["prompt_build"]
    assert model.prompts[0].startswith("<|fim_prefix|>")
    typed = TEXT[:AT] + " +" + TEXT[AT:]
    ahead = await eng.complete(CompletionRequest("u", typed, AT + 2))
    assert (ahead.text, ahead.source) == (" b", "typeahead")
    eng.typeahead.forget("u")
    again = await eng.complete(request)
    assert (again.text, again.source) == (" + b", "cache")
    assert len(model.prompts) == 1
    assert eng.stats.kv_reuse == 0.4


async def test_newer_request_supersedes_older_in_debounce_and_decode() -> None:
    model = ScriptedModel("x" * 40, per_token_s=0.01)
    eng = engine(model, debounce_ms=50)
    older = asyncio.ensure_future(eng.complete(CompletionRequest("u", TEXT, AT, automatic=True)))
    await asyncio.sleep(0.01)
    newer = await eng.complete(CompletionRequest("u", TEXT, AT - 1, automatic=True))
    assert (await older).source == "superseded"
    assert newer.source in ("model", "empty")
    # Mid-decode: a newer request cancels the running one.
    eng2 = engine(model)
    running = asyncio.ensure_future(eng2.complete(CompletionRequest("v", TEXT, AT)))
    await asyncio.sleep(0.05)
    await eng2.complete(CompletionRequest("v", TEXT, AT - 1))
    assert (await running).source == "cancelled"
    assert eng2.stats.cancelled == 1 and eng2.stats.wasted_tokens < 40


async def test_selected_completion_info_is_extended() -> None:
    model = ScriptedModel("(1, 2)")
    eng = engine(model)
    text = "x = ad\n"
    result = await eng.complete(
        CompletionRequest("u", text, 6, selected_text="add", selected_start=4)
    )
    assert result.start_offset == 4
    assert result.insert_text == "add(1, 2)"
    assert model.prompts[0].startswith("<|fim_prefix|>x = add<|fim_suffix|>")


async def test_unavailable_backend_answers_empty() -> None:
    eng = engine(ScriptedModel("x", down=True))
    result = await eng.complete(CompletionRequest("u", TEXT, AT))
    assert (result.text, result.source) == ("", "unavailable")
    beyond = await engine(ScriptedModel(" + b")).complete(CompletionRequest("u", TEXT, 10_000))
    assert beyond.start_offset == len(TEXT)  # clamped
