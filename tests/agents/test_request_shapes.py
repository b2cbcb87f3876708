"""What goes over the wire: golden request bodies for vLLM, llama.cpp's servers and others.

A small HTTP server stands in for each kind of server and answers the way it does: vLLM
honours ``response_format`` json_schema and ``tool_choice: "required"``; a server
taking only vLLM's ``structured_outputs``, another only its older ``guided_json``; llama-cpp-python's server refuses the json_schema type (422) and
takes ``json_object`` with a schema; a plain server ignores what it does not know. The
recorded bodies are compared with golden files in ``golden/`` (everything but the
messages, whose text the prompt tests cover).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from atoll.agents import CrewRun, CrewSettings, OpenAIChatModel
from atoll.agents.decoding import PROBE_SCHEMA, action_schema
from atoll.agents.models import Capabilities
from atoll.agents.roles import ROLES
from atoll.agents.staging import StagedWorkspace
from atoll.agents.tools import ToolBox
from tests.doctor.fakeserver import scripted_server

GOLDEN = Path(__file__).parent / "golden"
PROBE_ANSWER = json.dumps({"atoll_probe": "kestrel-7"})


def honours(kind: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The schema the server would hold its answer to, None if it ignores it."""
    fmt = body.get("response_format") or {}
    if kind == "vllm" and fmt.get("type") == "json_schema":
        return dict(fmt["json_schema"]["schema"])
    if kind == "structured" and "structured_outputs" in body:
        return dict(body["structured_outputs"]["json"])
    if kind == "guided" and "guided_json" in body:
        return dict(body["guided_json"])
    if kind == "llama-cpp-python" and fmt.get("type") == "json_object":
        return dict(fmt.get("schema") or {})
    return None


def answer(kind: str, body: dict[str, Any]) -> tuple[int, Any]:
    """A chat completion the way a server of ``kind`` answers ``body``."""
    fmt = body.get("response_format") or {}
    if kind == "llama-cpp-python" and fmt.get("type") not in (None, "json_object"):
        return 422, {"detail": [{"msg": "Input should be 'text' or 'json_object'"}]}
    message: dict[str, Any] = {"role": "assistant", "content": "Hello!"}
    schema = honours(kind, body)
    if schema == PROBE_SCHEMA:
        message["content"] = PROBE_ANSWER
    elif schema is not None:  # an action schema: its last tool (the finish), no arguments
        finish = schema["anyOf"][-1]["properties"]["tool"]["const"]
        message["content"] = json.dumps({"tool": finish, "args": {}})
    elif body.get("tools") and (kind == "vllm" or isinstance(body.get("tool_choice"), dict)):
        name = body["tools"][0]["function"]["name"]
        call = {"id": "c1", "type": "function", "function": {"name": name, "arguments": "{}"}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    choice = {"index": 0, "finish_reason": "stop", "message": message}
    return 200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice], "usage": usage}  # fmt: skip


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(kind)`` starts a fake server of that kind; ``serve.seen`` holds its requests."""
    with ExitStack() as stack:

        def start(kind: str) -> str:
            def script(method: str, path: str, body: Any) -> tuple[int, Any]:
                if method == "GET":
                    return 200, {"object": "list", "data": [{"id": "m", "object": "model"}]}
                start.seen.append(body)  # type: ignore[attr-defined]
                return answer(kind, body)

            start.seen = []  # type: ignore[attr-defined]
            return stack.enter_context(scripted_server(script)) + "/v1"

        yield start


def shape(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "messages"}


def golden(name: str) -> Any:
    return json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("kind", "caps"),
    [
        ("vllm", Capabilities(native=True, required=True, structured="json_schema")),
        ("structured", Capabilities(structured="structured_outputs")),
        ("guided", Capabilities(structured="guided_json")),
        ("llama-cpp-python", Capabilities(structured="json_object")),
        ("plain", Capabilities()),
    ],
)
def test_detection_finds_what_each_kind_of_server_supports(
    serve: Any, kind: str, caps: Capabilities
) -> None:
    model = OpenAIChatModel(serve(kind), "m")
    assert model.capabilities == caps
    assert model.capabilities is model.capabilities  # probed once


@pytest.mark.parametrize("kind", ["vllm", "structured", "guided", "llama-cpp-python"])
def test_a_constrained_action_request_matches_its_golden_shape(
    serve: Any, kind: str, tmp_path: Path
) -> None:
    role = ROLES["solo"]
    tools = ToolBox(StagedWorkspace.view(tmp_path)).select(("write_file", "read_file"), role.finish)
    schema = action_schema(tools.values(), {role.finish.name: role.prose})
    model = OpenAIChatModel(serve(kind), "m")
    assert model.capabilities.structured
    before = len(serve.seen)
    reply = model.complete([{"role": "user", "content": "go"}], max_tokens=64, schema=schema)
    assert json.loads(reply.content) == {"tool": "finish", "args": {}}
    [sent] = serve.seen[before:]
    assert shape(sent) == golden(f"{kind}_constrained")


def test_native_calls_on_vllm_are_forced_with_tool_choice_required(serve: Any) -> None:
    model = OpenAIChatModel(serve("vllm"), "m")
    assert model.capabilities.required
    tool = ROLES["solo"].finish.schema()
    reply = model.complete([{"role": "user", "content": "go"}], [tool], max_tokens=64)
    assert [c.name for c in reply.tool_calls] == ["finish"]
    assert shape(serve.seen[-1]) == golden("vllm_native")


def test_llama_cpp_python_refusing_json_schema_is_probed_not_fatal(serve: Any) -> None:
    model = OpenAIChatModel(serve("llama-cpp-python"), "m")
    assert model.capabilities.structured == "json_object"
    refused = [
        b for b in serve.seen if (b.get("response_format") or {}).get("type") == "json_schema"
    ]
    assert len(refused) == 1  # one probe, answered 422, then the next style


def test_a_solo_run_on_a_guided_server_sends_the_role_schema_then_free_prose(
    serve: Any, sample_workspace: Path
) -> None:
    model = OpenAIChatModel(serve("guided"), "m")
    settings = CrewSettings(roles=("solo",))
    run = CrewRun.start(
        sample_workspace, "nothing to do", model_for=lambda r: model, settings=settings
    )
    result = run.run()
    assert result.status == "done"
    turns = [b for b in serve.seen if b["messages"][0]["role"] == "system"]
    action, prose = turns
    assert [o["properties"]["tool"]["const"] for o in action["guided_json"]["anyOf"]] == [
        *ROLES["solo"].tools,
        "finish",
    ]
    assert action["max_tokens"] == 1024 and "guided_json" not in prose
    assert prose["max_tokens"] == 400  # the prose cap
    assert prose["messages"][-1]["content"].startswith("Now write what you changed")
