"""The constrained paths against real llama.cpp: in-process (a grammar) and its server.

The demo model (SmolLM2-135M) is the model under test: with its answers held to the
action schema, every answer is a valid action, and the seed's smoke test (create
test.txt with the content hello world) passes with the solo agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atoll.agents import CrewResult, CrewRun, CrewSettings, LlamaCppChatModel, OpenAIChatModel
from atoll.agents.agent import RoleLimits
from atoll.config import AtollConfig
from atoll.config.models import resolve_gguf
from tests.e2e.conftest import launch_llama_server, stop_process

SMOKE = "Create a new file named test.txt with the content hello world"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_cpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, base = launch_llama_server(tmp_path_factory.mktemp("server") / "server.log")
    try:
        yield base
    finally:
        stop_process(process)


def solo(workspace: Path, model: Any, task: str = SMOKE) -> CrewResult:
    limits = RoleLimits(max_steps=4, max_tokens_per_call=128, context_chars=8000)
    settings = CrewSettings(roles=("solo",), limits={"solo": limits})
    return CrewRun.start(workspace, task, model_for=lambda r: model, settings=settings).run()


def assistant_turns(result: CrewResult) -> list[dict[str, Any]]:
    with (result.run_dir / "transcript.jsonl").open() as lines:
        events = [json.loads(line) for line in lines]
    return [e for e in events if e["kind"] == "assistant"]


def assert_smoke_test_passed(result: CrewResult) -> None:
    assert (result.status, result.reason) == ("done", ""), result.reason
    [change] = result.diff.changes
    assert (change.path, change.kind) == ("test.txt", "added")
    assert (change.new_text or "").strip() == "hello world"
    stats = result.stats["solo"]
    assert stats.action_turns >= 2 and stats.valid_actions == stats.action_turns


def test_in_process_grammar_makes_the_demo_model_act(tmp_path: Path) -> None:
    model = LlamaCppChatModel(resolve_gguf(AtollConfig()).path, n_ctx=4096)
    result = solo(tmp_path, model)
    turns = assistant_turns(result)
    assert [t["decoding"] for t in turns][:2] == ["constrained", "constrained"]
    assert json.loads(turns[0]["content"])["tool"] == "write_file"
    assert_smoke_test_passed(result)


def test_llama_cpp_server_takes_the_schema_as_json_object(
    tmp_path: Path, llama_cpp_server: str
) -> None:
    model = OpenAIChatModel(llama_cpp_server)
    caps = model.capabilities
    # Its default chat format answers tool requests in plain text; the schema it takes
    # in response_format json_object (it refuses OpenAI's json_schema type).
    assert (caps.structured, caps.required) == ("json_object", False)
    result = solo(tmp_path, model)
    assert all(t["decoding"] in ("constrained", "free") for t in assistant_turns(result))
    assert_smoke_test_passed(result)
