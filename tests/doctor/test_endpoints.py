"""Endpoint probes against a real llama.cpp server: each fault named with its fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atoll.config import load_config
from atoll.doctor import DoctorContext, Status, run_checks
from atoll.doctor.endpoints import Endpoint, configured_endpoints, openai_endpoints, probe_endpoint
from atoll.doctor.explain import EndpointSettings, explain_exception, explain_status
from tests.doctor.llamaserver import MODEL_ALIAS, LlamaServer, llama_server

KEY = "sk-unit-5b1e"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    # chatml-function-calling: llama.cpp's real tool calls, as a tool-capable server gives.
    with llama_server(api_key=KEY, chat_format="chatml-function-calling") as running:
        yield running


def endpoint(
    server: LlamaServer, *, model: str = MODEL_ALIAS, key: str = KEY, url: str = ""
) -> Endpoint:
    return Endpoint(
        url or server.base_url,
        model,
        key,
        ("agents.architect",),
        "agents.endpoint.base_url",
        "agents.architect.model",
        "agents.endpoint.api_key",
        needs_tools=True,
    )


def by_suffix(results: list, suffix: str):  # type: ignore[no-untyped-def]
    [found] = [r for r in results if r.name.endswith(suffix)]
    return found


def test_a_healthy_tool_capable_endpoint(server: LlamaServer) -> None:
    results = probe_endpoint(endpoint(server), 10.0, native_tools=True)
    assert [r.status for r in results] == [Status.OK] * 4, results
    assert by_suffix(results, "tool calling").detail.startswith("native tool calls work")
    # llama.cpp's server takes a schema (json_object) but cannot force calls: constrained.
    actions = by_suffix(results, "actions").detail
    assert actions == (
        "supports native tool calls, structured output (json_object); "
        "the crew uses constrained output (a JSON schema per role)"
    )


def test_wrong_model_is_named_with_what_the_server_has(server: LlamaServer) -> None:
    results = probe_endpoint(
        endpoint(server, model="Qwen/Qwen2.5-Coder-32B"), 3.0, native_tools=False
    )
    bad = by_suffix(results, ": model")
    assert bad.status is Status.FAIL and bad.required
    assert "agents.architect.model = 'Qwen/Qwen2.5-Coder-32B' is not served" in bad.detail
    assert f"it serves: {MODEL_ALIAS}" in bad.detail
    assert "set agents.architect.model" in bad.fix


def test_missing_key_says_which_variable_to_set(server: LlamaServer) -> None:
    [bad] = probe_endpoint(endpoint(server, key=""), 10.0, native_tools=False)
    assert bad.status is Status.FAIL
    assert "wants an API key (HTTP 401) and none is configured" in bad.detail
    assert "export ATOLL_AGENTS_ENDPOINT_API_KEY=" in bad.fix


def test_url_without_v1_is_named(server: LlamaServer) -> None:
    url = server.base_url.removesuffix("/v1")
    [bad] = probe_endpoint(endpoint(server, url=url), 10.0, native_tools=False)
    assert "no OpenAI-compatible API at" in bad.detail
    assert "HTTP 404 (OpenAI-compatible URLs end in /v1)" in bad.detail
    assert "agents.endpoint.base_url" in bad.fix


def test_malformed_url_is_named() -> None:
    ep = Endpoint(
        "gpu-box:8000/v1", "m", "", ("agents.coder",), "agents.coder.base_url", "m", "k", True
    )
    [bad] = probe_endpoint(ep, 1.0, native_tools=False)
    assert bad.status is Status.FAIL
    assert "agents.coder.base_url = 'gpu-box:8000/v1' is not a usable URL" in bad.detail


def test_roles_sharing_a_server_are_probed_once(tmp_path: Path) -> None:
    (tmp_path / "user.toml").write_text(
        '[agents.endpoint]\nbase_url = "http://a:8000/v1"\nmodel = "big"\n'
        '[agents.coder]\nbase_url = "http://a:8001/v1"\nmodel = "small"\n'
        '[completion.endpoint]\nbase_url = "http://a:8001/v1/"\nmodel = "small"\n'
    )
    eps = configured_endpoints(load_config(tmp_path, user_file=tmp_path / "user.toml").config)
    assert [(e.base_url, e.model, e.users) for e in eps] == [
        ("http://a:8001/v1", "small", ("completion", "agents.coder")),
        ("http://a:8000/v1", "big", ("agents.architect", "agents.reviewer", "agents.tester")),
    ]
    assert eps[0].needs_tools and eps[0].url_key == "completion.endpoint.base_url"


def test_keys_never_reach_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-never-print-me-42"
    monkeypatch.setenv("ATOLL_AGENTS_ENDPOINT_API_KEY", secret)
    # A URL that embeds the key, as a careless copy-paste would: the report masks it.
    monkeypatch.setenv("ATOLL_AGENTS_ENDPOINT_BASE_URL", f"http://127.0.0.1:9/{secret}/v1")
    ctx = DoctorContext(tmp_path, load_config(tmp_path), timeout_s=0.5)
    results = run_checks(ctx, [openai_endpoints])
    assert results and all(secret not in r.detail + r.fix for r in results)
    assert any("***" in r.detail for r in results)


def test_what_a_feature_catches_is_named_the_same_way(server: LlamaServer) -> None:
    """The crew and completion use the openai client: its exceptions map to the same words."""
    import openai

    where = EndpointSettings(server.base_url, MODEL_ALIAS, has_key=True)
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    diagnosis = explain_exception(where, caught.value)
    assert "rejected the API key (HTTP 401" in diagnosis.detail
    assert "ATOLL_AGENTS_ENDPOINT_API_KEY" in diagnosis.fix
    down = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0, timeout=2)
    with pytest.raises(openai.APIConnectionError) as caught_down:
        down.models.list()
    assert "cannot connect to" in str(explain_exception(where, caught_down.value))


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (404, "The model `Qwen/X` does not exist.", "agents.endpoint.model = 'm' is not served"),
        (400, '"auto" tool choice requires --enable-auto-tool-choice', "does not do tool calling"),
        (400, "This model's maximum context length is 8192 tokens", "longer than its context"),
        (500, "boom", "answered HTTP 500: boom"),
    ],
)
def test_server_statuses_in_words(status: int, message: str, expected: str) -> None:
    where = EndpointSettings("http://box:8000/v1", "m")
    assert expected in explain_status(where, status, message).detail


def test_text_tool_protocol_skips_the_tool_probe(server: LlamaServer) -> None:
    results = probe_endpoint(endpoint(server), 10.0, native_tools=False, text_tools=True)
    tools = by_suffix(results, "tool calling")
    assert tools.status is Status.SKIP and "tool_protocol" in tools.detail


def test_openai_backend_without_a_url_is_named(tmp_path: Path) -> None:
    loaded = load_config(tmp_path, env={"ATOLL_COMPLETION_BACKEND": "openai"})
    results = run_checks(DoctorContext(tmp_path, loaded), [openai_endpoints])
    bad = results[0]
    assert bad.status is Status.FAIL and bad.required
    assert "completion.endpoint.base_url is empty" in bad.detail
