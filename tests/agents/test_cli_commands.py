"""``atoll run`` / ``ask`` / ``chat`` with a scripted model (and once the in-process model)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from atoll.cli.main import build_app
from tests.agents.scripts import HAPPY_PATH, action

runner = CliRunner()


def scripted(tmp_path: Path, answers: list[Any]) -> list[str]:
    path = tmp_path / f"script-{len(list(tmp_path.glob('script-*')))}.json"
    path.write_text(json.dumps({"answers": answers}))
    return ["--set", f"agents.endpoint.base_url=scripted:{path}", "--no-index"]


def invoke(*args: str, input: str | None = None) -> Any:
    return runner.invoke(build_app(), list(args), input=input, catch_exceptions=False)


@pytest.fixture
def requirement(tmp_path: Path) -> Path:
    path = tmp_path / "REQUIREMENT.md"
    path.write_text(
        "# Negative amounts\nformat_cents must support negative amounts; add a CSV export.\n"
    )
    return path


def test_run_json_streams_events_and_apply_writes_the_result(
    sample_workspace: Path, requirement: Path, tmp_path: Path
) -> None:
    out = invoke(
        "run",
        str(requirement),
        "-w",
        str(sample_workspace),
        "--json",
        "--apply",
        *scripted(tmp_path, HAPPY_PATH),
    )
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["role"] for e in events if e["event"] == "role"] == [
        "architect",
        "coder",
        "reviewer",
        "tester",
    ]
    result = events[-1]
    assert result["event"] == "result" and result["status"] == "done"
    assert result["applied"] == ["inventory/export.py", "inventory/report.py"]
    assert (
        (sample_workspace / "inventory" / "export.py").read_text().startswith('"""CSV export."""')
    )
    assert (
        'sign = "-" if cents < 0 else ""'
        in (sample_workspace / "inventory" / "report.py").read_text()
    )


def test_run_without_apply_leaves_files_and_can_be_resumed_and_replayed(
    sample_workspace: Path, requirement: Path, tmp_path: Path
) -> None:
    before = (sample_workspace / "inventory" / "report.py").read_text()
    # The model stops answering after the plan: a partial run, exit code 1.
    out = invoke(
        "run", str(requirement), "-w", str(sample_workspace), *scripted(tmp_path, HAPPY_PATH[:2])
    )
    assert out.exit_code == 1 and "resume with --resume" in out.stdout
    run_id = out.stdout.split("--resume ")[-1].split(")")[0].strip()
    assert (sample_workspace / "inventory" / "report.py").read_text() == before
    out = invoke(
        "run",
        "--resume",
        run_id,
        "-w",
        str(sample_workspace),
        "--json",
        *scripted(tmp_path, HAPPY_PATH[2:]),
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["run_id"] == run_id and result["status"] == "done"
    first = json.loads(out.stdout.splitlines()[0])
    assert (first["event"], first["role"]) == ("role", "coder")  # the plan is not redone
    replay = invoke("run", "--replay", run_id, "-w", str(sample_workspace), "--json")
    kinds = [json.loads(line)["kind"] for line in replay.stdout.splitlines()]
    assert kinds.count("run_start") == 1 and "run_resume" in kinds and kinds[-1] == "run_end"


def test_run_with_an_unreachable_endpoint_fails_before_any_work(
    sample_workspace: Path, requirement: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = invoke(
        "run",
        str(requirement),
        "-w",
        str(sample_workspace),
        "--endpoint",
        f"http://127.0.0.1:{port}/v1",
        "--no-index",
    )
    assert out.exit_code == 2 and "cannot reach" in out.stderr
    assert not (sample_workspace / ".atoll" / "runs").exists()


def test_run_rejects_missing_and_empty_requirements(sample_workspace: Path, tmp_path: Path) -> None:
    assert invoke("run", "-w", str(sample_workspace)).exit_code == 2
    assert invoke("run", str(tmp_path / "nope.md"), "-w", str(sample_workspace)).exit_code == 2
    (tmp_path / "empty.md").write_text("  \n")
    assert invoke("run", str(tmp_path / "empty.md"), "-w", str(sample_workspace)).exit_code == 2


def test_ask_answers_in_json(sample_workspace: Path, tmp_path: Path) -> None:
    script = [
        action("read_file", path="inventory/report.py"),
        action("answer", answer="It formats cents."),
    ]
    out = invoke(
        "ask",
        "what does format_cents do?",
        "-w",
        str(sample_workspace),
        "--json",
        *scripted(tmp_path, script),
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["answer"] == "It formats cents."


def test_chat_saves_sessions_and_resumes_them(sample_workspace: Path, tmp_path: Path) -> None:
    out = invoke(
        "chat",
        "-w",
        str(sample_workspace),
        "--json",
        *scripted(tmp_path, ["Hello, it is an inventory."]),
        input="/help\n/symbols x\nwhat is this?\n/nope\n/quit\n",
    )
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert any(e["event"] == "answer" and "inventory" in e["text"] for e in events)
    assert any(e["event"] == "error" and "/index first" in e["text"] for e in events)
    session = events[-1]["text"].split("resume ")[-1].strip("`")
    out = invoke(
        "chat",
        "-w",
        str(sample_workspace),
        "--json",
        "--resume",
        session,
        *scripted(tmp_path, ["Still an inventory."]),
        input="and now?\n",
    )
    assert out.exit_code == 0, out.output
    assert "2 earlier turns" in out.stdout
    assert (sample_workspace / ".atoll" / "chats" / f"{session}.jsonl").read_text().count("\n") == 4


@pytest.mark.slow
def test_ask_runs_on_the_in_process_tiny_model(sample_workspace: Path) -> None:
    out = invoke("ask", "What does format_cents return?", "-w", str(sample_workspace), "--json", "--no-index", "--set", "agents.max_steps=1", "--set", "agents.max_tokens=48")  # fmt: skip
    answer = json.loads(out.stdout)
    # The tiny model's answer is poor; the plumbing (a status, tokens counted) is the point.
    assert answer["status"] in {"done", "partial"} and answer["tokens"] > 0


@pytest.mark.slow
def test_the_smoke_test_passes_through_atoll_run_on_the_demo_model(tmp_path: Path) -> None:
    """The seed's smoke test: no endpoint, so the solo agent on the in-process model."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# notes\n")
    task = tmp_path / "task.md"
    task.write_text("Create a new file named test.txt with the content hello world\n")
    out = invoke("run", str(task), "-w", str(ws), "--json", "--apply")
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["role"] for e in events if e["event"] == "role"] == ["solo"]
    result = events[-1]
    assert (result["status"], result["applied"]) == ("done", ["test.txt"])
    assert (ws / "test.txt").read_text().strip() == "hello world"


def test_the_mode_option_picks_the_pipeline(
    sample_workspace: Path, requirement: Path, tmp_path: Path
) -> None:
    answers = [action("finish", summary="nothing to do")]
    out = invoke("run", str(requirement), "-w", str(sample_workspace), "--json", "--mode", "solo", *scripted(tmp_path, answers))  # fmt: skip
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["role"] for e in events if e["event"] == "role"] == ["solo"]
    bad = invoke("run", str(requirement), "-w", str(sample_workspace), "--mode", "duo")
    assert bad.exit_code == 2 and "--mode is crew, solo or auto" in bad.output
