"""The crew's roles: which tools each may use, how it finishes, what its task message says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atoll.agents.tools import Tool, finish_tool

READ_TOOLS = ("list_dir", "read_file", "search_code", "find_symbols", "outline")
WRITE_TOOLS = ("edit_file", "write_file", "delete_file", "rename_file")


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


@dataclass(frozen=True)
class Role:
    """One member of the crew."""

    name: str
    tools: tuple[str, ...]
    finish: Tool
    task_template: str
    # A plain-text answer (no action) counts as this finish field: the architect's plan
    # and a quick answer are prose anyway, and small models rarely wrap them in a tool.
    text_answer: str | None = None


ROLES: dict[str, Role] = {
    "architect": Role(
        "architect",
        READ_TOOLS,
        finish_tool(
            "submit_plan", "hand the plan to the coder", {"plan": _text("the plan (markdown)")}
        ),
        "task",
        text_answer="plan",
    ),
    "coder": Role(
        "coder",
        (*READ_TOOLS, *WRITE_TOOLS, "run_command", "diff"),
        finish_tool("finish", "the work is done", {"summary": _text("what you changed")}),
        "coder_task",
    ),
    "reviewer": Role(
        "reviewer",
        (*READ_TOOLS, "diff"),
        finish_tool(
            "review",
            "give the verdict",
            {
                "approved": {"type": "boolean", "description": "true when the change is good"},
                "requests": _text("concrete change requests, empty when approved"),
            },
        ),
        "reviewer_task",
    ),
    "tester": Role(
        "tester",
        (*READ_TOOLS, "edit_file", "write_file", "run_command", "diff"),
        finish_tool(
            "report_tests",
            "report the test result",
            {
                "passed": {"type": "boolean", "description": "true when the checks pass"},
                "report": _text("what ran, and the failing output if any"),
            },
        ),
        "tester_task",
    ),
    "docs": Role(
        "docs",
        (*READ_TOOLS, "edit_file", "write_file", "diff"),
        finish_tool("finish", "the docs are updated", {"summary": _text("what you changed")}),
        "tester_task",
    ),
    "ask": Role(
        "ask",
        READ_TOOLS,
        finish_tool("answer", "give the answer", {"answer": _text("the answer")}),
        "task",
        text_answer="answer",
    ),
}


def truthy(value: Any) -> bool:
    """Models send booleans as true, "true", "yes", 1 ..."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "approved", "pass", "passed"}
    return bool(value)
