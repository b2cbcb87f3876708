"""OpenAI-compatible endpoints: retries with back-off, tool-call fallback, real native tool calls."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atoll.agents import CrewRun, CrewSettings, EndpointError, OpenAIChatModel, RoleLimits
from atoll.agents.settings import ModelPool, crew_settings
from atoll.config import load_config
from tests.doctor.fakeserver import scripted_server

REPLY = {
    "id": "x",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


class FlakyEndpoint:
    """Answers 503 ``failures`` times, 400 to requests with tools if ``no_tools``, then OK."""

    def __init__(self) -> None:
        self.failures = 0
        self.no_tools = False
        self.seen: list[dict[str, Any]] = []
        self.url = ""

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.seen.append(body)
        if self.failures > 0:
            self.failures -= 1
            return 503, {"error": {"message": "busy"}}
        if self.no_tools and "tools" in body:
            return 400, {
                "error": {"message": "auto tool choice requires --enable-auto-tool-choice"}
            }
        return 200, REPLY


@pytest.fixture
def flaky() -> Iterator[FlakyEndpoint]:
    endpoint = FlakyEndpoint()
    with scripted_server(endpoint) as url:
        endpoint.url = f"{url}/v1"
        yield endpoint


TOOLS = [
    {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
    }
]


def test_transport_errors_are_retried_with_back_off(flaky: FlakyEndpoint) -> None:
    flaky.failures = 2
    model = OpenAIChatModel(flaky.url, "m", retries=3, backoff_s=0.01)
    reply = model.complete([{"role": "user", "content": "hello"}])
    assert reply.content == "hi" and reply.usage.total == 4
    assert len(flaky.seen) == 3


def test_too_many_failures_raise_a_clear_endpoint_error(flaky: FlakyEndpoint) -> None:
    flaky.failures = 5
    model = OpenAIChatModel(flaky.url, "m", retries=1, backoff_s=0.01)
    with pytest.raises(EndpointError, match="failed after 2 attempts"):
        model.complete([{"role": "user", "content": "hello"}])


def test_a_server_without_tool_calling_falls_back_to_the_text_protocol(
    flaky: FlakyEndpoint,
) -> None:
    flaky.no_tools = True
    model = OpenAIChatModel(flaky.url, "m")
    assert model.complete([{"role": "user", "content": "x"}], TOOLS).content == "hi"
    assert model.supports_tools is False
    assert "tools" in flaky.seen[0] and "tools" not in flaky.seen[1]


def test_roles_on_different_endpoints_get_their_own_models(tmp_path: Path) -> None:
    # Endpoints are the user's choice (their own file), never a workspace's.
    (tmp_path / "user.toml").write_text(
        '[agents.endpoint]\nbase_url = "http://big:8000/v1"\nmodel = "coder-32b"\n'
        '[agents.coder]\nbase_url = "http://small:8001/v1"\nmodel = "coder-7b"\nmax_steps = 30\n'
    )
    config = load_config(tmp_path, cli={}, user_file=tmp_path / "user.toml").config
    pool = ModelPool(config)
    architect, coder, reviewer = pool("architect"), pool("coder"), pool("reviewer")
    assert architect is reviewer and architect is not coder
    assert (architect.name, coder.name) == ("coder-32b", "coder-7b")
    settings = crew_settings(config)
    assert settings.role_limits("coder").max_steps == 30
    assert settings.role_limits("architect").max_steps == config.agents.max_steps


@pytest.mark.slow
def test_native_tool_calls_against_a_real_llama_server(sample_workspace: Path) -> None:
    """With ``chatml-function-calling`` llama.cpp emits real tool calls: the loop runs them."""
    from atoll.config import AtollConfig
    from atoll.config.models import resolve_gguf

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}/v1"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(resolve_gguf(AtollConfig()).path),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
           "--chat_format", "chatml-function-calling"]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/models", timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        model = OpenAIChatModel(base)
        model.check()
        limits = RoleLimits(max_steps=1, max_tokens_per_call=64, context_chars=8000)
        # auto would choose constrained output here (it cannot force calls): ask for native.
        settings = CrewSettings(roles=("coder",), limits={"coder": limits}, tool_protocol="native")
        run = CrewRun.start(
            sample_workspace, "List the files.", model_for=lambda r: model, settings=settings
        )
        result = run.run()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert model.supports_tools
    with (result.run_dir / "transcript.jsonl").open() as lines:
        events = [json.loads(line) for line in lines]
    calls = [c for e in events if e["kind"] == "assistant" for c in e["tool_calls"]]
    assert calls, "no native tool call came back"
    assert any(e["kind"] == "tool_call" for e in events)
    assert result.status in {"done", "partial"}
    shutil.rmtree(result.run_dir)
