"""The crew behind ``atoll.delegate`` without LSP: its arguments, progress lines and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.agents.agent import describe_event as describe
from atoll.config import load_config
from atoll.server.crew.report import failure, outcome_text
from atoll.server.crew.service import CrewError, task_from, with_run_mode


def test_task_arguments() -> None:
    assert task_from(("  add tests  ",)) == "add tests"
    assert task_from(({"task": "fix it", "uri": "file:///a.py"},)) == "fix it"
    for bad in ((), (42,), ({"uri": "file:///a.py"},), ("   ",)):
        with pytest.raises(CrewError):
            task_from(bad)


def test_a_run_may_name_its_mode(tmp_path: Path) -> None:
    config = load_config(tmp_path).config
    assert with_run_mode(config, ("task",)) is config
    assert with_run_mode(config, ({"task": "t"},)) is config
    solo = with_run_mode(config, ({"task": "t", "mode": "solo"},))
    assert solo.agents.mode == "solo" and config.agents.mode == "auto"
    assert solo.agents.roles == config.agents.roles
    for bad in ("swarm", 3, ""):
        with pytest.raises(CrewError, match="crew, solo or auto"):
            with_run_mode(config, ({"task": "t", "mode": bad},))


def test_progress_lines_name_the_role_step_and_files() -> None:
    assert describe({"kind": "role", "role": "architect"}) == "architect: starting"
    five = [f"f{n}.py" for n in range(5)]
    line = describe(
        {"kind": "step", "role": "coder", "step": 3, "tool": "write_file", "files": five}
    )
    assert line == "coder — step 3: write_file — files: f0.py, f1.py, f2.py, f3.py …"


def test_the_final_message_says_what_was_left_out_and_why() -> None:
    summary = {
        "status": "done",
        "reason": "",
        "files": [{"path": "a.py"}, {"path": "b.py"}],
        "applied": True,
        "conflicts": ["b.py"],
        "refused": [{"path": "link/c.py", "reason": "link is a symlink"}],
        "unsupported": [],
        "left_out": [{"path": "big.bin", "reason": "over the limit"}],
        "run_dir": "/runs/1",
    }
    text = outcome_text(summary)
    assert text.startswith("AI crew done: a.py, b.py. Applied.")
    assert "Changed meanwhile, left out: b.py." in text
    assert "Not applied, for safety: link is a symlink." in text
    assert "Left out of the result: big.bin (over the limit)." in text
    assert text.endswith("Transcript: /runs/1")
    assert failure("no folder") == {
        "status": "failed",
        "reason": "no folder",
        "message": "no folder",
        "applied": False,
        "files": [],
    }
