"""Quick mode: one agent with read-only tools answers one question (``atoll ask``, chat)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.agents.agent import EventSink, RoleAgent, RoleLimits, RoleStats, RunBudget
from atoll.agents.decoding import Protocol
from atoll.agents.errors import EndpointError, StopRun
from atoll.agents.models import ChatModel, Message
from atoll.agents.prompts import render
from atoll.agents.roles import ROLES
from atoll.agents.staging import StagedWorkspace
from atoll.agents.tools import CodeIndex, ToolBox
from atoll.agents.transcript import Transcript, new_run_id, runs_dir


@dataclass
class Answer:
    text: str
    status: str  # "done", "partial" (limits, no valid action), "failed" (endpoint)
    reason: str = ""
    stats: RoleStats = field(default_factory=lambda: RoleStats("ask"))
    run_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "status": self.status,
            "reason": self.reason,
            "run_id": self.run_id,
            "steps": self.stats.steps,
            "tokens": self.stats.prompt_tokens + self.stats.completion_tokens,
            "seconds": round(self.stats.seconds, 2),
        }


def ask(
    question: str,
    root: Path,
    model: ChatModel,
    *,
    index: CodeIndex | None = None,
    limits: RoleLimits | None = None,
    protocol: Protocol = "auto",
    history: list[Message] | None = None,
    wall_clock_s: float = 120.0,
    on_event: EventSink | None = None,
    record: bool = True,
) -> Answer:
    """Answer ``question`` about the workspace at ``root``; the files are only read."""
    role = ROLES["ask"]
    run_id = new_run_id()
    run_dir = runs_dir(root) / f"ask-{run_id}"
    transcript = Transcript(run_dir if record else Path(_scratch()))
    toolbox = ToolBox(StagedWorkspace.view(root), index, root)
    agent = RoleAgent(
        role,
        model,
        toolbox.select(role.tools, role.finish),
        limits=limits or RoleLimits(max_steps=6),
        budget=RunBudget(deadline=time.monotonic() + wall_clock_s, max_tokens=0),
        transcript=transcript,
        protocol=protocol,
        on_event=on_event,
    )
    try:
        result = agent.run(
            render(role.system_template),
            render(role.task_template, task=question, context=""),
            history,
        )
        return Answer(
            str(result.get("answer", "")).strip(), "done", stats=agent.stats, run_id=run_dir.name
        )
    except StopRun as exc:
        return Answer("", "partial", str(exc), agent.stats, run_dir.name)
    except EndpointError as exc:
        return Answer("", "failed", str(exc), agent.stats, run_dir.name)


def _scratch() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="atoll-ask-")
