"""The pipeline with a scripted model: the expected edit, bounded loops, every kind of stop."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from atoll.agents import (
    AssistantMessage,
    CrewRun,
    CrewSettings,
    EndpointError,
    OpenAIChatModel,
    RoleLimits,
    ScriptedChatModel,
    ToolCall,
    ask,
)
from atoll.agents.models import Message
from tests.agents.scripts import HAPPY_PATH, PLAN, action

TASK = "Support negative amounts in format_cents and add a CSV export"


def start(ws: Path, model: Any, settings: CrewSettings | None = None, **kw: Any) -> CrewRun:
    return CrewRun.start(
        ws, TASK, model_for=lambda role: model, settings=settings or CrewSettings(), **kw
    )


def test_happy_path_produces_the_expected_multi_file_diff(sample_workspace: Path) -> None:
    before = (sample_workspace / "inventory" / "report.py").read_text()
    events: list[dict[str, Any]] = []
    result = start(sample_workspace, ScriptedChatModel(HAPPY_PATH), on_event=events.append).run()
    assert (result.status, result.reason) == ("done", "")
    assert [(c.path, c.kind) for c in result.diff.changes] == [
        ("inventory/export.py", "added"),
        ("inventory/report.py", "modified"),
    ]
    report = next(c for c in result.diff.changes if c.path == "inventory/report.py")
    assert report.new_text == before.replace(
        '    return f"${cents // 100}.{cents % 100:02d}"\n',
        '    sign = "-" if cents < 0 else ""\n    cents = abs(cents)\n'
        '    return f"{sign}${cents // 100}.{cents % 100:02d}"\n',
    )
    # The user's files are untouched; the run's record is complete.
    assert (sample_workspace / "inventory" / "report.py").read_text() == before
    assert not (sample_workspace / "inventory" / "export.py").exists()
    assert (result.run_dir / "plan.md").read_text().strip() == PLAN
    assert "+++ b/inventory/export.py" in (result.run_dir / "result.diff").read_text()
    kinds = [json.loads(line)["kind"] for line in (result.run_dir / "transcript.jsonl").open()]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end" and "tool_call" in kinds
    roles = [e["role"] for e in events if e["kind"] == "role"]
    assert roles == ["architect", "coder", "reviewer", "tester"]
    assert any(e["kind"] == "step" and e["files"] for e in events)
    assert set(result.stats) == {"architect", "coder", "reviewer", "tester"}
    assert all(s.prompt_tokens > 0 for s in result.stats.values())


def test_reviewer_change_requests_go_back_to_the_coder_bounded(sample_workspace: Path) -> None:
    script = [
        "The plan: change report.py",  # plain text is accepted as the plan
        action("write_file", path="a.py", content="a = 1\n"),
        action("finish", summary="a"),
        action("review", approved=False, requests="name it b"),
        action("write_file", path="a.py", content="b = 1\n"),
        action("finish", summary="b"),
        action("review", approved="no", requests="still wrong"),
    ]
    settings = CrewSettings(roles=("architect", "coder", "reviewer"), max_review_rounds=1)
    model = ScriptedChatModel(script)
    result = start(sample_workspace, model, settings).run()
    assert result.status == "partial" and "did not approve" in result.reason
    assert result.plan == "The plan: change report.py"
    assert [c.new_text for c in result.diff.changes] == ["b = 1\n"]
    coder_task = model.calls[4][-1]["content"]
    assert "name it b" in coder_task


def test_failing_tests_go_back_to_the_coder_at_most_max_fix_rounds(sample_workspace: Path) -> None:
    script = [action("finish", summary="nothing")]
    for _ in range(3):
        script += [
            action("report_tests", passed=False, report="AssertionError"),
            action("finish", summary="fix"),
        ]
    script += [action("report_tests", passed=False, report="AssertionError")]
    settings = CrewSettings(roles=("coder", "tester"), max_fix_rounds=3)
    model = ScriptedChatModel(script)
    result = start(sample_workspace, model, settings).run()
    assert result.status == "partial" and "after 3 fix rounds" in result.reason
    assert result.stats["coder"].steps == 4 and result.stats["tester"].steps == 4
    assert not model.script


def test_describing_instead_of_acting_gets_corrections_then_a_clean_stop(
    sample_workspace: Path,
) -> None:
    talk = "First I would open the file and then change the function."
    model = ScriptedChatModel([talk, talk, talk])
    settings = CrewSettings(roles=("coder",))
    result = start(sample_workspace, model, settings).run()
    assert result.status == "partial" and "without a valid action" in result.reason
    # Two correcting replies were sent, each naming the action format.
    assert "no action block" in model.calls[1][-1]["content"]
    assert "no action block" in model.calls[2][-1]["content"]
    events = [json.loads(line) for line in (result.run_dir / "transcript.jsonl").open()]
    assert sum(e["kind"] == "correction" for e in events) == 2
    assert events[-1]["kind"] == "run_end"


def test_malformed_native_tool_calls_are_corrected_then_stop(sample_workspace: Path) -> None:
    bad = AssistantMessage("", (ToolCall("write_file", None, '{"path": "a.py", "content": '),))
    good = AssistantMessage(
        "", (ToolCall("write_file", {"path": "a.py", "content": "ok\n"}, "{}"),)
    )
    model = ScriptedChatModel([bad, good, "hmm", "hmm", "hmm"], supports_tools=True)
    result = start(sample_workspace, model, CrewSettings(roles=("coder",))).run()
    assert "not valid JSON" in model.calls[1][-1]["content"]
    assert model.calls[1][-1]["role"] == "tool"
    assert result.status == "partial"
    assert [c.path for c in result.diff.changes] == ["a.py"]  # the partial result is kept


def test_step_limit_stops_with_a_reviewable_partial_result(sample_workspace: Path) -> None:
    script = [action("write_file", path=f"f{i}.py", content=f"x = {i}\n") for i in range(5)]
    settings = CrewSettings(roles=("coder",), limits={"coder": RoleLimits(max_steps=3)})
    result = start(sample_workspace, ScriptedChatModel(script), settings).run()
    assert result.status == "partial" and "3 steps" in result.reason
    assert result.diff.files == ["f0.py", "f1.py", "f2.py"]


def test_cancel_mid_run_leaves_the_users_files_untouched(sample_workspace: Path) -> None:
    before = {p: p.read_bytes() for p in sample_workspace.rglob("*") if p.is_file()}

    def cancel(messages: Sequence[Message]) -> str:
        run.budget.cancel.set()
        return action("write_file", path="inventory/report.py", content="gone\n")

    script = [action("write_file", path="x.py", content="1"), cancel]
    run = start(sample_workspace, ScriptedChatModel(script), CrewSettings(roles=("coder",)))
    result = run.run()
    assert result.status == "cancelled"
    after = {
        p: p.read_bytes()
        for p in sample_workspace.rglob("*")
        if p.is_file() and ".atoll" not in p.parts
    }
    assert after == before
    assert result.diff.files == ["x.py"]


def test_resume_after_a_crash_continues_from_the_last_finished_role(sample_workspace: Path) -> None:
    def crash(messages: Sequence[Message]) -> str:
        raise KeyboardInterrupt  # the process dies mid-coder

    first = start(sample_workspace, ScriptedChatModel([action("submit_plan", plan="P"), crash]))
    with pytest.raises(KeyboardInterrupt):
        first.run()
    model = ScriptedChatModel(HAPPY_PATH[2:])
    resumed = CrewRun.resume(
        sample_workspace, first.run_id, model_for=lambda role: model, settings=CrewSettings()
    )
    result = resumed.run()
    assert result.status == "done" and result.plan == "P"
    assert result.diff.files == ["inventory/export.py", "inventory/report.py"]
    kinds = [json.loads(line)["kind"] for line in (result.run_dir / "transcript.jsonl").open()]
    assert "run_resume" in kinds


def test_unreachable_endpoint_fails_before_any_work(sample_workspace: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIChatModel(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2, retries=0)
    with pytest.raises(EndpointError, match="cannot reach"):
        model.check()


def test_quick_ask_answers_from_the_code(sample_workspace: Path) -> None:
    model = ScriptedChatModel(
        [action("read_file", path="inventory/report.py"), "It formats cents as dollars."]
    )
    answer = ask("What does format_cents do?", sample_workspace, model)
    assert (answer.status, answer.text) == ("done", "It formats cents as dollars.")
    assert "format_cents" in model.calls[1][-1]["content"]


def test_cancel_does_not_wait_for_a_slow_model_call(sample_workspace: Path) -> None:
    import threading

    model = ScriptedChatModel([action("finish", summary="late")], delay_s=30)
    run = start(sample_workspace, model, CrewSettings(roles=("coder",)))
    threading.Timer(0.3, run.budget.cancel.set).start()
    result = run.run()
    assert result.status == "cancelled"
    assert model.script, "the run returned before the slow call even finished"


def test_a_hanging_command_is_killed_and_the_crew_goes_on(sample_workspace: Path) -> None:
    script = [action("run_command", command="echo begun; sleep 60"), action("finish", summary="ok")]
    model = ScriptedChatModel(script)
    settings = CrewSettings(roles=("coder",), command_timeout_s=0.5)
    result = start(sample_workspace, model, settings).run()
    assert result.status == "done"
    output = model.calls[1][-1]["content"]
    assert "timed out and was killed" in output and "begun" in output


def test_the_optional_docs_role_runs_last(sample_workspace: Path) -> None:
    script = [
        action("write_file", path="inventory/export.py", content="def to_csv():\n    return ''\n"),
        action("finish", summary="export"),
        action(
            "edit_file",
            path="README.md",
            search="# ",
            replace="# (with CSV export) ",
        ),
        action("finish", summary="README mentions the export"),
    ]
    settings = CrewSettings(roles=("coder", "docs"))
    result = start(sample_workspace, ScriptedChatModel(script), settings).run()
    assert result.status == "done"
    assert result.diff.files == ["README.md", "inventory/export.py"]
    assert list(result.stats) == ["coder", "docs"]
