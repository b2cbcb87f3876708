"""`atoll serve-config`: the recipes in deploy/ are exactly the generator's output for
deploy/atoll.toml, so the laptops' config and the GPU box's launch lines never drift."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from atoll.config import AtollConfig, load_config
from atoll.deploy import DeployError, plan_qdrant, plan_vllm, render_all
from atoll.deploy.render import render
from atoll.doctor.endpoints import configured_endpoints
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
# Hand-written recipes that live beside the generated files.
HAND_WRITTEN = {"atoll.toml", "README.md"}
HAND_WRITTEN_DIRS = {"nginx"}


def team_config(**env: str) -> AtollConfig:
    # `atoll serve-config -w deploy` reads the set-up description as the user's own file.
    loaded = load_config(None, env=env, user_file=DEPLOY / "atoll.toml")
    assert loaded.issues == ()
    return loaded.config


def config_from(tmp_path: Path, toml: str) -> AtollConfig:
    (tmp_path / "atoll.toml").write_text(toml)
    return load_config(None, env={}, user_file=tmp_path / "atoll.toml").config


def test_deploy_folder_matches_the_generator() -> None:
    expected = render_all(team_config(), source="deploy/atoll.toml")
    for rel, text in expected.items():
        path = DEPLOY / rel
        assert path.is_file(), (
            f"{rel} is missing: run `atoll serve-config all -w deploy --write deploy`"
        )
        assert path.read_text() == text, f"deploy/{rel} drifted from the generator: regenerate it"
    on_disk = {
        str(p.relative_to(DEPLOY))
        for p in DEPLOY.rglob("*")
        if p.is_file() and p.relative_to(DEPLOY).parts[0] not in HAND_WRITTEN_DIRS
    }
    assert on_disk - HAND_WRITTEN - set(expected) == set(), "stale generated files in deploy/"


def test_launch_lines_serve_what_the_laptops_ask_for() -> None:
    config = team_config()
    plans = {p.name: p for p in plan_vllm(config)}
    assert set(plans) == {"architect", "coder"}
    architect, coder = plans["architect"], plans["coder"]
    assert architect.users == ("agents.architect", "agents.reviewer", "agents.tester")
    assert (architect.model, architect.host, architect.port) == (
        "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ",
        "10.20.0.5",
        8000,
    )
    assert architect.model_path == "/models/Qwen2.5-Coder-32B-Instruct-AWQ"
    assert (coder.port, coder.gpu_memory_utilization, coder.max_model_len) == (8001, 0.28, 16384)
    # Every endpoint the doctor would probe has a server with the very same model.
    for ep in configured_endpoints(config):
        port = int(ep.base_url.rsplit(":", 1)[1].split("/")[0])
        [plan] = [p for p in plans.values() if p.port == port]
        assert plan.model == ep.model
    script = (DEPLOY / "vllm" / "architect.sh").read_text()
    argv = shlex.split(script.split("exec ", 1)[1].replace("\\\n", " "))
    assert argv[:2] == ["vllm", "serve"] and argv[2:] == architect.args()
    for flag in ("--enable-auto-tool-choice", "--tool-call-parser", "--max-model-len"):
        assert flag in argv


def test_generated_files_parse_and_bind_the_lan_address_only() -> None:
    files = render_all(team_config())
    for rel, text in files.items():
        if rel.endswith(".sh"):
            subprocess.run(["sh", "-n"], input=text, text=True, check=True)
    compose = yaml.safe_load(files["compose.yaml"])
    ports = [p for svc in compose["services"].values() for p in svc["ports"]]
    assert ports and all(p.startswith("10.20.0.5:") for p in ports)
    qdrant = yaml.safe_load(files["qdrant/config.yaml"])
    assert qdrant["service"] == {"host": "10.20.0.5", "http_port": 6333, "grpc_port": 6334}
    assert qdrant["telemetry_disabled"] is True
    assert "0.0.0.0" not in files["vllm/architect.sh"] + files["systemd/atoll-vllm-coder.service"]


def test_keys_are_never_rendered() -> None:
    secret = "sk-team-secret-1234"
    config = team_config(ATOLL_AGENTS_ENDPOINT_API_KEY=secret, ATOLL_INDEXING_QDRANT_API_KEY=secret)
    assert config.agents.endpoint.api_key == secret
    assert all(secret not in text for text in render_all(config).values())


def test_two_servers_share_the_gpu_unless_told(tmp_path: Path) -> None:
    config = config_from(
        tmp_path,
        '[agents.endpoint]\nbase_url = "http://box:8000/v1"\nmodel = "org/Big"\n'
        '[agents.coder]\nbase_url = "http://box:8001/v1"\nmodel = "org/Small"\n',
    )
    plans = plan_vllm(config)
    assert [p.gpu_memory_utilization for p in plans] == [0.45, 0.45]
    assert [p.host for p in plans] == ["box", "box"]  # no bind_host: the URL's host


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("", "no endpoint to serve: set agents.endpoint.base_url"),
        (
            '[agents.endpoint]\nbase_url = "http://box:8000/v1"\nmodel = "a"\n'
            '[agents.coder]\nmodel = "b"\n',
            "one vLLM server serves one model, but http://box:8000/v1 is asked for",
        ),
        (
            '[agents.endpoint]\nbase_url = "http://box:8000/v1"\n',
            "architect=(unset)",
        ),
        (
            '[agents.endpoint]\nbase_url = "http://box:8000/v1"\nmodel = "a"\n'
            '[agents.coder]\nbase_url = "http://box:8001/v1"\nmodel = "b"\n'
            "[deploy.architect]\ngpu_memory_utilization = 0.7\n"
            "[deploy.coder]\ngpu_memory_utilization = 0.5\n",
            "ask for 1.20 of the GPU memory together",
        ),
        ('[agents.endpoint]\nbase_url = "box:8000"\nmodel = "a"\n', "is not an http(s) URL"),
    ],
)
def test_unservable_configs_are_named(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(DeployError) as caught:
        plan_vllm(config_from(tmp_path, toml))
    assert message in str(caught.value)


def test_qdrant_needs_a_server_url_but_all_does_not(tmp_path: Path) -> None:
    config = config_from(
        tmp_path, '[agents.endpoint]\nbase_url = "http://box:8000/v1"\nmodel = "a"\n'
    )
    with pytest.raises(DeployError, match="embedded Qdrant Edge"):
        plan_qdrant(config)
    files = render(config, "all")
    assert "qdrant/config.yaml" not in files and "systemd/atoll-qdrant.service" not in files


def test_cli_prints_and_fails_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "atoll.cli", "serve-config"]
    out = subprocess.run([*cmd, "vllm", "-w", str(DEPLOY)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "--served-model-name Qwen/Qwen2.5-Coder-7B-Instruct-AWQ" in out.stdout
    assert "==> vllm/coder.sh <==" in out.stdout
    check = subprocess.run(
        [*cmd, "all", "-w", str(DEPLOY), "--check", str(DEPLOY)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and "match the config" in check.stdout, check.stderr
    mine = tmp_path / "deploy"  # same folder name: same header
    shutil.copytree(DEPLOY, mine)
    (mine / "vllm" / "coder.sh").write_text("edited by hand\n")
    drift = subprocess.run(
        [*cmd, "all", "-w", str(mine), "--check", str(mine)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert drift.returncode == 1 and "vllm/coder.sh" in drift.stderr
    assert "1 file(s) under" in drift.stderr
    (tmp_path / "atoll.toml").write_text("")
    bad = subprocess.run(
        [*cmd, "qdrant", "-w", str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "indexing.qdrant_url is not a server URL" in bad.stderr
