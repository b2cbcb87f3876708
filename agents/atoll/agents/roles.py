"""The crew's roles as data: one entry per role, and the pipeline reads the table.

An entry says which system prompt and task templates the role uses, its tools and its
finish tool, whose model settings it runs on, what its result leaves for the roles after
it, and when it sends the work back (a bounded loop). Adding a role is one entry here plus
its prompt file in ``templates/``; listing it in ``agents.roles`` puts it in the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atoll.agents.tools import Tool, finish_tool

READ_TOOLS = ("list_dir", "read_file", "search_code", "find_symbols", "outline")
WRITE_TOOLS = ("write_file", "edit_file", "rename_file", "delete_file")
# The main tools first: under constrained decoding small models lean towards the first
# alternatives of the schema.
CODER_TOOLS = ("write_file", "edit_file", "read_file", "list_dir", "search_code",
               "find_symbols", "outline", "rename_file", "delete_file", "run_command", "diff")  # fmt: skip


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _flag(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


@dataclass(frozen=True)
class LoopBack:
    """When the role's verdict is false, the work goes back to ``to`` with the feedback.

    ``rounds`` names the :class:`~atoll.agents.crew.CrewSettings` field that bounds the
    loops; once they are spent the run goes on with ``exhausted`` as a note (``$rounds``
    is the number spent). ``come_back``: after the fix this role runs again.
    """

    verdict: str
    feedback: str
    rounds: str
    exhausted: str
    to: str = "coder"
    come_back: bool = False


@dataclass(frozen=True)
class Role:
    """One member of the crew."""

    name: str
    tools: tuple[str, ...]
    finish: Tool
    task_template: str
    prompt: str = ""  # the system prompt template; "" means the role's name
    # Whose model settings the role runs on (``agents.<model>``); "" means its own.
    model: str = ""
    # (finish field, run field): what the result leaves for later roles ("plan", "summary").
    keeps: tuple[tuple[str, str], ...] = ()
    loop_back: LoopBack | None = None
    # A plain-text answer (no action) counts as this finish field: the architect's plan
    # and a quick answer are prose anyway, and small models rarely wrap them in a tool.
    text_answer: str | None = None
    # Finish fields that are prose: under constrained decoding the model picks the finish
    # action first, then writes these as free text with a length cap.
    prose: tuple[str, ...] = ()
    # Part of the crew's sequence; the quick "ask" agent is not.
    pipeline: bool = True
    # On its last step the role hands over what it has instead of stopping the run (the
    # architect's plan: a late plan beats none). Enforced under constrained output.
    wrap_up: bool = False

    @property
    def system_template(self) -> str:
        return self.prompt or self.name

    @property
    def model_key(self) -> str:
        return self.model or self.name


def _finish(name: str, description: str, **fields: dict[str, Any]) -> Tool:
    return finish_tool(name, description, fields)


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "architect",
            READ_TOOLS,
            _finish("submit_plan", "hand the plan to the coder", plan=_text("the plan (markdown)")),
            "task",
            keeps=(("plan", "plan"),),
            text_answer="plan",
            prose=("plan",),
            wrap_up=True,
        ),
        Role(
            "coder",
            CODER_TOOLS,
            _finish("finish", "the work is done", summary=_text("what you changed")),
            "coder_task",
            keeps=(("summary", "summary"),),
            prose=("summary",),
        ),
        Role(
            "reviewer",
            (*READ_TOOLS, "diff"),
            _finish(
                "review",
                "give the verdict",
                approved=_flag("true when the change is good"),
                requests=_text("concrete change requests, empty when approved"),
            ),
            "reviewer_task",
            loop_back=LoopBack(
                "approved",
                "requests",
                "max_review_rounds",
                "the reviewer did not approve the final round",
            ),
            prose=("requests",),
        ),
        Role(
            "tester",
            (*READ_TOOLS, "edit_file", "write_file", "run_command", "diff"),
            _finish(
                "report_tests",
                "report the test result",
                passed=_flag("true when the checks pass"),
                report=_text("what ran, and the failing output if any"),
            ),
            "tester_task",
            loop_back=LoopBack(
                "passed",
                "report",
                "max_fix_rounds",
                "tests still failing after $rounds fix rounds",
                come_back=True,
            ),
            prose=("report",),
        ),
        Role(
            "solo",
            CODER_TOOLS,
            _finish("finish", "the work is done", summary=_text("what you changed")),
            # The repository map goes in the system prompt (solo.md), the task alone in the
            # message: small models act on the last thing they read.
            "solo_task",
            model="coder",
            keeps=(("summary", "summary"),),
            prose=("summary",),
        ),
        Role(
            "docs",
            (*READ_TOOLS, "edit_file", "write_file", "diff"),
            _finish("finish", "the docs are updated", summary=_text("what you changed")),
            "tester_task",
            prose=("summary",),
        ),
        Role(
            "ask",
            READ_TOOLS,
            _finish("answer", "give the answer", answer=_text("the answer")),
            "task",
            text_answer="answer",
            prose=("answer",),
            pipeline=False,
        ),
    )
}


def pipeline_roles(names: tuple[str, ...]) -> list[str]:
    """The configured roles that exist and belong in a pipeline, in order."""
    return [name for name in names if name in ROLES and ROLES[name].pipeline]


def truthy(value: Any) -> bool:
    """Models send booleans as true, "true", "yes", 1 ..."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "y", "1", "approved", "pass", "passed"}
    return bool(value)
