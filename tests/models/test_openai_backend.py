"""The OpenAI-compatible backend against a scripted server with real faults on the wire."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from atoll.bench.faultyserver import FaultyServer, faulty_server
from atoll.completion.templates import ContextFile, template_by_name
from atoll.models.backends.openai_compat import SILENT_LIMIT, OpenAICompatModel
from atoll.models.types import ModelUnavailableError, Prompt, Segment
from atoll.models.worker import CancelFlag

PLAIN = Prompt((Segment("def add(a, b):\n    "),), ("\n",))


def model_for(server: FaultyServer, states: list[tuple[bool, str]]) -> OpenAICompatModel:
    return OpenAICompatModel(
        server.base_url,
        timeout_s=5,
        backoff_max_s=30,
        on_state=lambda up, why: states.append((up, why)),
    )


async def wait_until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def test_a_stream_that_never_ends_is_abandoned_at_the_deadline() -> None:
    states: list[tuple[bool, str]] = []
    with faulty_server("stream_forever") as server:
        model = model_for(server, states)
        # Learn what the server is first, as warming on didOpen does (no completion is
        # asked for), so that the budgets below are the stream's alone on a busy machine.
        assert (await model.complete(PLAIN, max_tokens=0)).finish == "length"
        assert server.hits("/v1/completions") == 0
        result = await model.complete(PLAIN, max_tokens=8, deadline=time.monotonic() + 0.3)
        assert result.finish == "deadline" and result.text == ""
        # The connection is closed, so the server sees the client go away.
        await wait_until(lambda: server.open_streams == 0 and server.abandoned_after_s)
        # A server that never says anything within the budget is an outage, told once.
        for _ in range(SILENT_LIMIT - 2):
            await model.complete(PLAIN, max_tokens=8, deadline=time.monotonic() + 0.2)
        with pytest.raises(ModelUnavailableError, match="time budget"):
            await model.complete(PLAIN, max_tokens=8, deadline=time.monotonic() + 0.2)
        hits = server.hits("/v1/completions")
        with pytest.raises(ModelUnavailableError, match="retrying"):
            await model.complete(PLAIN, max_tokens=8, deadline=time.monotonic() + 0.2)
        assert server.hits("/v1/completions") == hits  # backed off: not asked again
        assert [up for up, _ in states] == [False]
        await model.aclose()


async def test_a_cancel_abandons_the_stream_at_once() -> None:
    with faulty_server("stream_forever") as server:
        model = model_for(server, [])
        cancel = CancelFlag()
        asyncio.get_running_loop().call_later(0.2, cancel.set)
        result = await model.complete(PLAIN, max_tokens=8, cancel=cancel)
        assert result.finish == "cancelled"
        await wait_until(lambda: server.open_streams == 0 and server.abandoned_after_s)
        await model.aclose()


async def test_malformed_answers_back_off_and_tell_once() -> None:
    states: list[tuple[bool, str]] = []
    with faulty_server("malformed") as server:
        model = model_for(server, states)
        with pytest.raises(ModelUnavailableError, match="malformed"):
            await model.complete(PLAIN, max_tokens=8)
        hits = server.hits()
        for _ in range(5):  # keystrokes during the back-off
            with pytest.raises(ModelUnavailableError):
                await model.complete(PLAIN, max_tokens=8)
        assert server.hits() == hits
        assert len(states) == 1 and not states[0][0] and "malformed" in states[0][1]
        server.mode = "ok"
        model._down_until = 0.0  # the back-off is over
        result = await model.complete(PLAIN, max_tokens=8)
        assert result.text == "return a + b" and states[-1] == (True, "")
        await model.aclose()


async def test_llama_cpp_servers_get_infill_with_repository_context() -> None:
    with faulty_server("ok", owned_by="llamacpp", answer="a + b") as server:
        model = model_for(server, [])
        prompt = template_by_name("qwen").render(
            ["import math\n", "def add(a, b):\n"],
            "\n\nprint(add(1, 2))\n",
            path="calc.py",
            context=[ContextFile("util.py", "def helper():\n    return 1")],
            middle="    return ",
        )
        infill = prompt.infill
        assert infill is not None
        prompt = replace(prompt, stop=("\n",), infill=replace(infill, indent=4))
        result = await model.complete(prompt, max_tokens=16, deadline=time.monotonic() + 5)
        assert result.text == "a + b" and model.kind == "llama.cpp"
        path, body = server.requests[-1]
        assert path == "/infill"
        assert body["input_prefix"] == "import math\ndef add(a, b):\n"
        assert body["prompt"] == "    return " and body["input_suffix"].startswith("\n\nprint")
        assert body["input_extra"] == [
            {"filename": "util.py", "text": "def helper():\n    return 1"}
        ]
        assert body["cache_prompt"] is True and body["n_indent"] == 4
        assert 0 < body["t_max_predict_ms"] <= 5000
        # Warming a llama.cpp server: the prompt is evaluated into its slot, nothing generated.
        await model.complete(prompt, max_tokens=0)
        assert server.requests[-1][1]["n_predict"] == 0
        await model.aclose()


async def test_other_servers_get_the_stable_prompt_on_v1_completions() -> None:
    with faulty_server("ok", owned_by="vllm") as server:
        model = model_for(server, [])
        prompt = template_by_name("qwen").render("def add(a, b):\n", "\n", middle="    ")
        result = await model.complete(prompt, max_tokens=16)
        assert result.text == "return a + b" and model.kind == "vllm"
        path, body = server.requests[-1]
        assert path == "/v1/completions" and body["prompt"] == prompt.text
        assert body["model"] == "faulty-coder"
        assert await model.chat([{"role": "user", "content": "hi"}], max_tokens=8) == "return a + b"
        await model.aclose()
