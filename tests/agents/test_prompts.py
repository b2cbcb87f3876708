"""Prompt templates render exactly (golden strings), and a missing value is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.agents.prompts import placeholders, render
from atoll.agents.roles import ROLES

CORRECTION = """Your answer has no action block, so nothing happened. Reply with exactly one action
block, for example:

```action
{"tool": "read_file", "args": {}}
```

Available tools: read_file, finish. When you are done, use finish.
"""

CODER_TASK = """# Task
Add a CSV export

# Plan
1. write export.py

# Requested changes (round 1)
name it to_csv
"""


def test_correction_golden() -> None:
    assert (
        render("correction", example="read_file", names="read_file, finish", finish="finish")
        == CORRECTION
    )


def test_coder_task_golden() -> None:
    feedback = "\n# Requested changes (round 1)\nname it to_csv"
    assert (
        render("coder_task", task="Add a CSV export", plan="1. write export.py", feedback=feedback)
        == CODER_TASK
    )


def test_every_role_has_a_system_prompt_and_a_missing_value_is_an_error() -> None:
    for name in ROLES:
        template = ROLES[name].system_template
        assert len(render(template, **dict.fromkeys(placeholders(template), ""))) > 100
    with pytest.raises(KeyError):
        render("coder_task", task="x")


def test_a_role_prompt_can_be_replaced_by_a_file(tmp_path: Path) -> None:
    mine = tmp_path / "coder.md"
    mine.write_text("You write Rust only.\n")
    assert render("coder", str(mine)) == "You write Rust only.\n"
    with pytest.raises(FileNotFoundError):
        render("coder", str(tmp_path / "missing.md"))
