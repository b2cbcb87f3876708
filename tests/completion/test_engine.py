"""The engine's order of business with a scripted model (no llama.cpp needed)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from atoll.completion.engine import CompletionEngine, CompletionRequest
from atoll.completion.templates import template_by_name
from atoll.config.schema import CompletionConfig
from tests.scripted_model import ScriptedModel

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
    # The cursor's block goes after the middle token, as llama.cpp's /infill does.
    assert model.prompts[0] == "<|fim_prefix|><|fim_suffix|>\n<|fim_middle|>x = add"


async def test_unavailable_backend_answers_empty() -> None:
    eng = engine(ScriptedModel("x", down=True))
    result = await eng.complete(CompletionRequest("u", TEXT, AT))
    assert (result.text, result.source) == ("", "unavailable")
    beyond = await engine(ScriptedModel(" + b")).complete(CompletionRequest("u", TEXT, 10_000))
    assert beyond.start_offset == len(TEXT)  # clamped


def long_file(lines: int = 300) -> str:
    return "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(lines // 2))


def stable_part(prompt: str) -> str:
    return prompt[: prompt.index("<|fim_middle|>")]


async def test_typing_and_enter_change_only_the_prompt_end() -> None:
    model = ScriptedModel("")
    eng = engine(model, cache_size=0, prefix_tokens=200, suffix_tokens=20)
    text = long_file()
    at = text.index("def f100")
    for typed in ("d", "de", "def", "def g():\n    ", "def g():\n    y"):
        edited = text[:at] + typed + text[at:]
        await eng.complete(CompletionRequest("u", edited, at + len(typed)))
    # Within the cursor's 16-line block only what follows the middle token changes.
    assert len({stable_part(p) for p in model.prompts}) == 1
    last = model.prompts[-1]
    assert last.endswith("return x + 99\ndef g():\n    y")
    assert "<|fim_middle|>def f96(x):" in last  # line 192: where the cursor's block starts


async def test_a_huge_single_line_is_bounded_before_tokenizing() -> None:
    counted: list[int] = []

    class Counting(ScriptedModel):
        def count_tokens(self, text: str) -> int:
            counted.append(len(text))
            return len(text) // 3

    model = Counting("")
    eng = engine(model, prefix_tokens=100, suffix_tokens=50)
    text = "var a=1;" * 2_500_000  # 20 MB, one line
    result = await eng.complete(CompletionRequest("u", text, len(text) // 2))
    assert result.source in ("model", "empty")
    assert max(counted) <= 100 * 8 and len(model.prompts[0]) <= 100 * 8 + 50 * 8 + 64


async def test_warm_evaluates_without_generating_and_counts() -> None:
    model = ScriptedModel("never shown")
    eng = engine(model)
    g = await eng.warm("u", TEXT, AT, None)
    assert g is not None and g.text == "" and eng.stats.warms == 1
    assert eng.stats.requests == 0  # not a request: nothing to show


async def test_recent_edits_come_from_edits_in_other_files(tmp_path: Path) -> None:
    model = ScriptedModel("")
    eng = engine(model, cache_size=0)
    eng.prompts.snippets.root = tmp_path
    other = "def helper():\n    return 42\n"
    # Asking for a completion is not an edit: nothing is remembered.
    await eng.complete(CompletionRequest("a", other, 10, path=tmp_path / "util.py"))
    await eng.complete(CompletionRequest("b", TEXT, AT, path=tmp_path / "main.py"))
    assert "helper" not in model.prompts[-1]
    eng.note_edit(tmp_path / "util.py", other, other.index("42"))
    await eng.complete(CompletionRequest("b", TEXT, AT - 1, path=tmp_path / "main.py"))
    assert "util.py\ndef helper():\n    return 42" in model.prompts[-1]
