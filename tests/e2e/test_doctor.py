"""`atoll doctor` end to end: a real llama.cpp server, the CLI as a subprocess.

It passes on the demo set-up and fails usefully (exit 1, the precise cause and the
fix) when the server is stopped or the key is wrong. The key never appears in output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.doctor.llamaserver import MODEL_ALIAS, LlamaServer, llama_server

KEY = "sk-doctor-e2e-7f3a9c"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with llama_server(api_key=KEY) as running:
        yield running


def doctor(workspace: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "atoll.cli",
            "doctor",
            "--json",
            "--timeout",
            "10",
            "-w",
            str(workspace),
        ],
        env={**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert KEY not in proc.stdout + proc.stderr, "an API key was printed"
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def demo_env(base_url: str, key: str = KEY) -> dict[str, str]:
    """The demo set-up: completion and the crew on one llama.cpp server."""
    return {
        "ATOLL_COMPLETION_ENDPOINT_BASE_URL": base_url,
        "ATOLL_COMPLETION_ENDPOINT_MODEL": MODEL_ALIAS,
        "ATOLL_COMPLETION_ENDPOINT_API_KEY": key,
        "ATOLL_AGENTS_ENDPOINT_BASE_URL": base_url,
        "ATOLL_AGENTS_ENDPOINT_MODEL": MODEL_ALIAS,
        "ATOLL_AGENTS_ENDPOINT_API_KEY": key,
    }


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def test_doctor_passes_on_the_demo_setup(server: LlamaServer, sample_workspace: Path) -> None:
    code, report, _ = doctor(sample_workspace, demo_env(server.base_url))
    checks = by_name(report)
    assert code == 0, [c for c in report["checks"] if c["status"] == "fail"]
    assert report["ok"] is True
    agents = "endpoint agents.architect, agents.coder, agents.reviewer, agents.tester"
    assert agents not in checks  # completion and the crew share one server: one probe
    label = "endpoint completion, " + agents.removeprefix("endpoint ")
    assert checks[f"{label}: reachable"]["status"] == "ok"
    assert MODEL_ALIAS in checks[f"{label}: reachable"]["detail"]
    assert checks[f"{label}: model"]["status"] == "ok"
    assert "ms" in checks[f"{label}: round trip"]["detail"]
    # The tiny model answers in text unless forced: a warning, not a failure.
    tools = checks[f"{label}: tool calling"]
    assert tools["status"] in ("ok", "warn") and tools["required"] is (tools["status"] == "fail")
    assert checks["gguf model"]["status"] == "ok"


def test_doctor_passes_with_defaults_and_skips_what_is_not_configured(
    sample_workspace: Path,
) -> None:
    code, report, _ = doctor(sample_workspace, {})
    checks = by_name(report)
    assert code == 0 and report["ok"] is True
    assert checks["endpoint agents"]["status"] == "skip"
    assert checks["editor: lsp transport"]["status"] == "ok"


def test_doctor_fails_usefully_with_a_wrong_key(
    server: LlamaServer, sample_workspace: Path
) -> None:
    code, report, _ = doctor(sample_workspace, demo_env(server.base_url, key="sk-wrong-key-000"))
    assert code == 1 and report["ok"] is False
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert failed and all("rejected the API key (HTTP 401" in c["detail"] for c in failed)
    assert "ATOLL_COMPLETION_ENDPOINT_API_KEY" in failed[0]["fix"]
    assert "sk-wrong-key-000" not in json.dumps(report)


def test_doctor_fails_usefully_when_the_server_is_stopped(sample_workspace: Path) -> None:
    with llama_server() as running:
        env = demo_env(running.base_url, key="")
        code, _, _ = doctor(sample_workspace, env)
        assert code == 0
    code, report, _ = doctor(sample_workspace, env)
    assert code == 1
    [failed] = [c for c in report["checks"] if c["status"] == "fail"]
    assert failed["name"].endswith(": reachable")
    assert f"cannot connect to {running.base_url}" in failed["detail"]
    assert "is the server running" in failed["detail"]
    assert "atoll serve-config vllm" in failed["fix"]
    assert "completion.endpoint.base_url" in failed["fix"]


def test_doctor_human_output_names_the_broken_check(sample_workspace: Path) -> None:
    env = {
        "ATOLL_AGENTS_ENDPOINT_BASE_URL": "http://127.0.0.1:9/v1",
        "ATOLL_AGENTS_ENDPOINT_MODEL": "m",
        "ATOLL_INDEXING_EMBEDDINGS": "0",
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "atoll.cli", "doctor", "-w", str(sample_workspace)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "broken:" in proc.stdout and "cannot connect to http://127.0.0.1:9/v1" in proc.stdout
    assert "fix:" in proc.stdout
