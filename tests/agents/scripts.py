"""Scripted answers shared by the crew's tests (text protocol, as a small model writes it)."""

from __future__ import annotations

import json
from typing import Any


def action(tool: str, **args: Any) -> str:
    """One fenced action block, with a little chatter around it as models do."""
    return f"I will use {tool}.\n```action\n{json.dumps({'tool': tool, 'args': args})}\n```"


PLAN = "Files: inventory/report.py, inventory/export.py\nSteps: 1. add to_csv 2. use it\nChecks: python -c import"

# Architect → Coder → Reviewer → Tester on the sample workspace: a two-file change.
HAPPY_PATH = [
    action("read_file", path="inventory/report.py"),
    action("submit_plan", plan=PLAN),
    action("read_file", path="inventory/report.py", start_line=1, end_line=8),
    action(
        "edit_file",
        path="inventory/report.py",
        search='    return f"${cents // 100}.{cents % 100:02d}"\n',
        replace='    sign = "-" if cents < 0 else ""\n    cents = abs(cents)\n    return f"{sign}${cents // 100}.{cents % 100:02d}"\n',
    ),
    action(
        "write_file",
        path="inventory/export.py",
        content='"""CSV export."""\n\n\ndef to_csv(rows: list[tuple[str, int]]) -> str:\n    return "\\n".join(f"{a},{b}" for a, b in rows)\n',
    ),
    action("finish", summary="negative amounts and a CSV export"),
    action("diff"),
    action("review", approved=True, requests=""),
    action("run_command", command="python -c 'import inventory.export, inventory.report'"),
    action("report_tests", passed=True, report="imports work"),
]
