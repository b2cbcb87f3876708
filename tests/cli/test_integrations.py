"""``atoll integrations continue`` and ``vscode-tasks``: real files, backups, merges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atoll.cli.commands.integrations import TASK_LABEL, parse_jsonc
from atoll.cli.main import build_app

runner = CliRunner()
ENDPOINTS = [
    "--set",
    "agents.endpoint.base_url=http://gpu-box.lan:8000/v1",
    "--set",
    "agents.endpoint.model=Qwen/Qwen2.5-Coder-32B-Instruct-AWQ",
    "--set",
    "completion.endpoint.base_url=http://127.0.0.1:8080/v1",
]


def invoke(*args: str) -> tuple[int, str]:
    """Exit code, and stdout alone for --json (notes and errors go to stderr)."""
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout if "--json" in args else result.output


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    return root


def test_continue_writes_both_models_and_backs_up_a_users_file(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTINUE_GLOBAL_DIR", str(tmp_path / "continue"))
    target = tmp_path / "continue" / "config.yaml"
    target.parent.mkdir()
    target.write_text("name: mine\n")

    code, out = invoke("integrations", "continue", "-w", str(workspace), "--json", *ENDPOINTS)
    assert code == 0, out
    report = json.loads(out)
    text = target.read_text()
    assert 'apiBase: "http://gpu-box.lan:8000/v1"' in text
    assert 'model: "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ"' in text
    assert "roles: [chat, edit, apply]" in text
    assert 'apiBase: "http://127.0.0.1:8080/v1"' in text and "roles: [autocomplete]" in text
    assert report["changed"] is True and report["warnings"] == []
    backup = Path(report["backup"])
    assert backup.read_text() == "name: mine\n" and backup.parent == target.parent

    # Same content again: nothing written, no new backup.
    code, out = invoke("integrations", "continue", "-w", str(workspace), "--json", *ENDPOINTS)
    assert code == 0 and json.loads(out)["changed"] is False
    assert len(list(target.parent.glob("config.yaml.bak-*"))) == 1


def test_continue_secrets_never_land_in_the_file(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOLL_AGENTS_ENDPOINT_API_KEY", "sk-very-secret")
    out_file = tmp_path / "c.yaml"
    code, out = invoke("integrations", "continue", "-w", str(workspace), "-o", str(out_file), *ENDPOINTS)  # fmt: skip
    assert code == 0, out
    assert "sk-very-secret" not in out_file.read_text()


def test_continue_without_endpoints_fails_and_writes_nothing(
    workspace: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "c.yaml"
    code, out = invoke("integrations", "continue", "-w", str(workspace), "-o", str(out_file))
    assert code == 1
    assert "agents.endpoint.base_url" in out
    assert not out_file.exists()


def test_continue_with_chat_only_notes_the_missing_autocomplete(
    workspace: Path, tmp_path: Path
) -> None:
    code, out = invoke(
        "integrations", "continue", "-w", str(workspace), "--dry-run", "--json", *ENDPOINTS[:4]
    )
    assert code == 0, out
    report = json.loads(out)
    assert "roles: [chat, edit, apply]" in report["config"]
    assert "autocomplete" not in report["config"]
    assert any("completion.endpoint.base_url" in w for w in report["warnings"])


def test_vscode_tasks_merges_with_existing_tasks_and_comments(workspace: Path) -> None:
    tasks = workspace / ".vscode" / "tasks.json"
    tasks.parent.mkdir()
    original = """{
  // my build task, "quoted // not a comment"
  "version": "2.0.0",
  "tasks": [
    {"label": "build", "type": "shell", "command": "make // all",},
    {"label": "Delegate to AI crew", "type": "shell", "command": "old"},
  ],
  /* trailing */
}
"""
    tasks.write_text(original)
    code, out = invoke("integrations", "vscode-tasks", "-w", str(workspace), "--json")
    assert code == 0, out
    report = json.loads(out)
    merged = json.loads(tasks.read_text())
    assert [t["label"] for t in merged["tasks"]] == ["build", TASK_LABEL]
    assert merged["tasks"][0]["command"] == "make // all"
    task = merged["tasks"][1]
    assert task["args"][:2] == ["run", "${file}"]
    assert Path(report["backup"]).read_text() == original  # comments are kept in the backup

    code, out = invoke("integrations", "vscode-tasks", "-w", str(workspace), "-r", "docs/req.md")
    assert code == 0, out
    merged = json.loads(tasks.read_text())
    assert [t["label"] for t in merged["tasks"]] == ["build", TASK_LABEL]
    assert merged["tasks"][1]["args"][:2] == ["run", "docs/req.md"]


def test_vscode_tasks_creates_the_file_and_refuses_a_broken_one(workspace: Path) -> None:
    code, out = invoke("integrations", "vscode-tasks", "-w", str(workspace))
    assert code == 0, out
    tasks = workspace / ".vscode" / "tasks.json"
    assert json.loads(tasks.read_text())["version"] == "2.0.0"

    tasks.write_text("{ not json")
    code, out = invoke("integrations", "vscode-tasks", "-w", str(workspace))
    assert code == 1 and "left untouched" in out
    assert tasks.read_text() == "{ not json"


def test_parse_jsonc() -> None:
    assert parse_jsonc('{"a": "x // y", /* c */ "b": [1, 2,],}') == {"a": "x // y", "b": [1, 2]}
    assert parse_jsonc('{"a": "q\\\\"} // end') == {"a": "q\\"}
    assert parse_jsonc("") == {}
