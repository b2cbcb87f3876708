"""Roles are data: a new role is one table entry, and the pipeline runs it with its loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.agents import CrewRun, CrewSettings, ScriptedChatModel
from atoll.agents.crew import PipelineState
from atoll.agents.roles import ROLES, LoopBack, Role, pipeline_roles
from atoll.agents.tools import finish_tool
from tests.agents.scripts import action

AUDITOR = Role(
    "auditor",
    ("read_file", "diff"),
    finish_tool(
        "verdict",
        "say whether the change is safe",
        {"safe": {"type": "boolean"}, "concerns": {"type": "string"}},
    ),
    "reviewer_task",
    prompt="reviewer",  # borrows the reviewer's system prompt
    model="reviewer",  # and its model settings
    loop_back=LoopBack("safe", "concerns", "max_review_rounds", "the auditor stayed unhappy"),
)


def test_a_new_role_is_one_entry_with_its_own_loop_back(
    sample_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLES, "auditor", AUDITOR)
    script = [
        action("write_file", path="a.py", content="import os\nos.system('x')\n"),
        action("finish", summary="a"),
        action("verdict", safe=False, concerns="no os.system"),
        action("write_file", path="a.py", content="a = 1\n"),
        action("finish", summary="b"),
        action("verdict", safe=True, concerns=""),
    ]
    asked: list[str] = []
    model = ScriptedChatModel(script)
    settings = CrewSettings(roles=("coder", "auditor"), max_review_rounds=1)
    run = CrewRun.start(
        sample_workspace,
        "add a.py",
        model_for=lambda key: asked.append(key) or model,
        settings=settings,
    )
    result = run.run()
    assert (result.status, result.reason) == ("done", "")
    assert [c.new_text for c in result.diff.changes] == ["a = 1\n"]
    # The concerns reached the coder's second task; the auditor ran on the reviewer's model.
    assert "no os.system" in model.calls[3][-1]["content"]
    assert set(asked) == {"coder", "reviewer"}
    assert list(result.stats) == ["coder", "auditor"] and result.stats["coder"].steps == 4
    assert (result.run_dir / "summary.md").read_text() == "b\n"


def test_the_loop_bound_and_its_note_come_from_the_entry(
    sample_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROLES, "auditor", AUDITOR)
    script = [action("finish", summary="a"), action("verdict", safe="no", concerns="bad")]
    settings = CrewSettings(roles=("coder", "auditor"), max_review_rounds=0)
    model = ScriptedChatModel(script)
    run = CrewRun.start(sample_workspace, "x", model_for=lambda key: model, settings=settings)
    result = run.run()
    assert (result.status, result.reason) == ("partial", "the auditor stayed unhappy")


def test_only_pipeline_roles_run_and_an_old_state_file_still_loads() -> None:
    assert pipeline_roles(("architect", "ask", "nobody", "coder")) == ["architect", "coder"]
    old = {"task": "t", "next": "coder", "review_round": 1, "fix_round": 0, "plan": "p"}
    state = PipelineState.load(old)
    assert (state.task, state.next, state.plan, state.rounds) == ("t", "coder", "p", {})
