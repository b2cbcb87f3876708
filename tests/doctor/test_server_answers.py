"""How the doctor reads answers of servers that cannot run here: vLLM without its tool
parser, a Qdrant server that refuses the key. Their exact responses, on the real wire."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atoll.config import load_config
from atoll.doctor import DoctorContext, Status, run_checks
from atoll.doctor.endpoints import Endpoint, probe_endpoint
from atoll.doctor.vectors import qdrant
from tests.doctor.fakeserver import scripted_server

MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ"
VLLM_AUTO_TOOL_ERROR = (
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
)


def vllm_without_tool_parser(method: str, path: str, body: Any) -> tuple[int, Any]:
    """vLLM started without --enable-auto-tool-choice: named and required tool choice and
    structured output still work."""
    if path == "/v1/models":
        return 200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
    if path == "/v1/chat/completions" and body.get("tool_choice") == "auto":
        return 400, {"object": "error", "message": VLLM_AUTO_TOOL_ERROR, "code": 400}
    if path == "/v1/chat/completions" and "tools" not in body:
        fmt = body.get("response_format") or {}
        text = (
            json.dumps({"atoll_probe": "kestrel-7"}) if fmt.get("type") == "json_schema" else "hi"
        )
        return 200, {"choices": [{"message": {"role": "assistant", "content": text}}]}
    if path == "/v1/chat/completions":
        call = {
            "id": "c1",
            "type": "function",
            "function": {"name": "report_status", "arguments": '{"ok": true}'},
        }
        return 200, {
            "choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]}}]
        }
    return 404, {"detail": "Not Found"}


def test_vllm_without_its_tool_parser_is_named() -> None:
    with scripted_server(vllm_without_tool_parser) as url:
        ep = Endpoint(
            f"{url}/v1",
            MODEL,
            "",
            ("agents.coder",),
            "agents.coder.base_url",
            "agents.coder.model",
            "agents.endpoint.api_key",
            True,
        )
        results = probe_endpoint(ep, 3.0, native_tools=False)
    tools, actions = results[-2:]
    assert tools.name.endswith("tool calling") and tools.status is Status.WARN
    assert "only when tool_choice names the function" in tools.detail
    assert VLLM_AUTO_TOOL_ERROR in tools.detail
    assert "--enable-auto-tool-choice --tool-call-parser hermes" in tools.fix
    # The crew does not need "auto": forced calls hold even a small model to an action.
    assert actions.name.endswith("actions") and actions.status is Status.OK
    assert actions.detail == (
        "supports tool_choice required, structured output (json_schema); "
        "the crew uses native tool calls, forced (tool_choice required)"
    )
    with scripted_server(vllm_without_tool_parser) as url:
        ep = Endpoint(f"{url}/v1", MODEL, "", ("agents.coder",), "u", "m", "k", True)
        strict = probe_endpoint(ep, 3.0, native_tools=True)[-2]
    assert strict.status is Status.FAIL and strict.required


def test_a_qdrant_server_refusing_the_key_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(method: str, path: str, body: Any) -> tuple[int, Any]:
        return 401, {"status": {"error": "Invalid api-key"}, "time": 0.0}

    with scripted_server(refuse) as url:
        monkeypatch.setenv("ATOLL_INDEXING_QDRANT_URL", url)
        monkeypatch.setenv("ATOLL_INDEXING_QDRANT_API_KEY", "qk-wrong-123")
        ctx = DoctorContext(tmp_path, load_config(tmp_path), timeout_s=2)
        results = run_checks(ctx, [qdrant])
    failed = results[0]
    assert failed.status is Status.FAIL and "rejected the API key" in failed.detail
    assert "ATOLL_INDEXING_QDRANT_API_KEY" in failed.fix
    assert all("qk-wrong-123" not in r.detail + r.fix for r in results)
