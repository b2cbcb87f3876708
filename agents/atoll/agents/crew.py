"""The pipeline: Architect → Coder → Reviewer → Tester → Docs, with bounded loops back.

A :class:`CrewRun` owns one staged workspace and one transcript. After every role it
saves where it stands (``state.json``), so :meth:`CrewRun.resume` can continue after a
crash or a cancel. Whatever stops it, the result is the diff of the staged copy: a
complete change, or a reviewable partial one.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from string import Template
from typing import Any, Literal

from atoll.agents.agent import (
    EventSink,
    RoleAgent,
    RoleLimits,
    RoleStats,
    RunBudget,
    ignore_event,
)
from atoll.agents.decoding import Protocol
from atoll.agents.errors import Cancelled, CrewError, EndpointError, StopRun
from atoll.agents.models import ChatModel
from atoll.agents.prompts import placeholders, render
from atoll.agents.roles import ROLES, pipeline_roles, truthy
from atoll.agents.sandbox import Sandbox, SandboxPolicy
from atoll.agents.staging import StagedWorkspace, WorkspaceDiff, WriteLimits
from atoll.agents.tools import CodeIndex, ToolBox
from atoll.agents.transcript import Transcript, find_run, new_run_id, runs_dir, runs_root

Status = Literal["done", "partial", "cancelled", "failed"]
MAX_DIFF_CHARS = 12000


@dataclass(frozen=True)
class CrewSettings:
    """How the crew runs; :func:`atoll.agents.settings.crew_settings` builds it from config."""

    roles: tuple[str, ...] = ("architect", "coder", "reviewer", "tester")
    max_review_rounds: int = 2
    max_fix_rounds: int = 3
    max_run_tokens: int = 0
    wall_clock_s: float = 600.0
    command_timeout_s: float = 60.0
    tool_protocol: Protocol = "auto"
    limits: Mapping[str, RoleLimits] = field(default_factory=dict)
    prompts: Mapping[str, str] = field(default_factory=dict)  # role -> template override
    sandbox: SandboxPolicy = field(default_factory=SandboxPolicy)
    write_limits: WriteLimits = field(default_factory=WriteLimits)

    def role_limits(self, role: str) -> RoleLimits:
        return self.limits.get(role, RoleLimits())

    def budget(self, cancel: threading.Event | None = None) -> RunBudget:
        """A run's shared limits, starting now: its wall clock and its tokens."""
        deadline = time.monotonic() + self.wall_clock_s
        return RunBudget(deadline, self.max_run_tokens, cancel or threading.Event())


@dataclass
class CrewResult:
    run_id: str
    run_dir: Path
    status: Status
    reason: str
    summary: str
    plan: str
    diff: WorkspaceDiff
    stats: dict[str, RoleStats]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "status": self.status,
            "reason": self.reason,
            "summary": self.summary,
            "plan": self.plan,
            "files": [
                {"path": c.path, "kind": c.kind, "old_path": c.old_path} for c in self.diff.changes
            ],
            "left_out": [{"path": p, "reason": why} for p, why in self.diff.left_out],
            "stats": {name: asdict(s) for name, s in self.stats.items()},
            "seconds": round(self.seconds, 2),
        }


@dataclass
class PipelineState:
    """Where a run stands; saved after every role."""

    task: str
    next: str | None
    plan: str = ""
    feedback: str = ""
    feedback_round: int = 0
    return_to: str = ""
    rounds: dict[str, int] = field(default_factory=dict)  # loops back, per sending role
    notes: list[str] = field(default_factory=list)
    summary: str = ""
    status: str = "running"

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> PipelineState:
        """From ``state.json``; keys of an older format are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


ModelFor = Callable[[str], ChatModel]


class CrewRun:
    """One delegated task, from the staged copy to the diff."""

    def __init__(
        self,
        run_dir: Path,
        staged: StagedWorkspace,
        state: PipelineState,
        *,
        model_for: ModelFor,
        settings: CrewSettings,
        index: CodeIndex | None = None,
        root: Path | None = None,
        on_event: EventSink | None = None,
        budget: RunBudget | None = None,
    ) -> None:
        self.run_id = run_dir.name
        self.run_dir = run_dir
        self.staged = staged
        self.state = state
        self.model_for = model_for
        self.settings = settings
        self.index = index
        self.on_event = on_event or ignore_event
        self.transcript = Transcript(run_dir)
        hide = (root.resolve(),) if root is not None else ()
        policy = dataclasses.replace(settings.sandbox, hide=(*hide, runs_root()))
        self.sandbox = Sandbox(policy, staged.work)
        self.toolbox = ToolBox(
            staged, index, root, settings.command_timeout_s, sandbox=self.sandbox
        )
        self.budget = budget or settings.budget()
        self.stats: dict[str, RoleStats] = {}

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        root: Path,
        task: str,
        *,
        buffers: Mapping[Path, str] | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> CrewRun:
        """Stage ``root`` (with unsaved ``buffers``) in the user's cache and get ready."""
        settings: CrewSettings = kwargs.get("settings", CrewSettings())
        run_dir = runs_dir(root) / (run_id or new_run_id())
        staged = StagedWorkspace.create(root, run_dir, buffers, settings.write_limits)
        roles = pipeline_roles(settings.roles)
        state = PipelineState(task=task, next=roles[0] if roles else None)
        run = cls(run_dir, staged, state, root=root, **kwargs)
        run.transcript.write_text("task.md", task)
        run.transcript.record("run_start", run_id=run.run_id, task=task, roles=roles)
        run._save()
        return run

    def announce(self) -> None:
        """Say how commands run (or why they do not) before any work: once per run."""
        status = self.sandbox.status()
        self.transcript.record("sandbox", **status.to_json())
        roles_with_commands = [r for r in self.settings.roles if "run_command" in ROLES[r].tools]
        if status.mode == "unsandboxed" or (not status.available and roles_with_commands):
            message = status.message
            if not status.available:
                message = f"commands are off for this run: {message}; file tools keep working"
            self.on_event({"kind": "warning", "message": message})
        for note in status.warnings:
            self.on_event({"kind": "warning", "message": note})

    @classmethod
    def resume(cls, root: Path, run_id: str, **kwargs: Any) -> CrewRun:
        """Continue a run that crashed, was cancelled or stopped, from its last finished role."""
        run_dir = find_run(root, run_id)
        if run_dir is None or not (run_dir / "state.json").is_file():
            raise CrewError(f"no run {run_id!r} of this workspace under {runs_dir(root)}")
        state = PipelineState.load(Transcript(run_dir).read_json("state.json"))
        settings: CrewSettings = kwargs.get("settings", CrewSettings())
        staged = StagedWorkspace(run_dir, settings.write_limits)
        run = cls(run_dir, staged, state, root=root, **kwargs)
        run.transcript.record("run_resume", run_id=run_id, next=state.next)
        return run

    # -- the pipeline -----------------------------------------------------------------------

    def _save(self) -> None:
        self.transcript.write_json("state.json", asdict(self.state))

    def _next_after(self, role: str) -> str | None:
        order = pipeline_roles(self.settings.roles)
        if role not in order:
            return None
        later = order[order.index(role) + 1 :]
        return later[0] if later else None

    def _diff_text(self) -> str:
        text = self.staged.diff().unified() or "(no changes)"
        if len(text) > MAX_DIFF_CHARS:
            text = text[:MAX_DIFF_CHARS] + "\n[... diff cut; use the diff tool ...]"
        return text

    def _context(self) -> str:
        """The symbol map and search hits the architect starts from."""
        if self.index is None:
            return ""
        parts = []
        try:
            outline = self.index.outline(600)
            if outline:
                parts.append("# Repository map\n" + outline)
            hits = self.index.search(self.state.task, 3)
            if hits:
                parts.append(
                    "# Related code\n"
                    + "\n\n".join(
                        f"{self.toolbox.rel(h.path)}:{h.start_line + 1}\n{h.text}" for h in hits
                    )
                )
        except Exception as exc:  # the index is a help, never a reason to fail
            self.transcript.record("index_error", error=repr(exc))
        return "\n\n".join(parts)

    def _task_values(self) -> dict[str, Callable[[], str]]:
        """Every value a task template may name, computed only when it does."""
        state = self.state
        return {
            "task": lambda: state.task,
            "plan": lambda: state.plan or state.task,
            "feedback": lambda: (
                f"\n# Requested changes (round {state.feedback_round})\n{state.feedback}"
                if state.feedback
                else ""
            ),
            "diff": self._diff_text,
            "files": lambda: "\n".join(self.staged.diff().files) or "(none)",
            "context": self._context,
            "summary": lambda: state.summary,
        }

    def _fill(self, template: str, override: str = "") -> str:
        """A template with the run's values for the placeholders it names."""
        values = self._task_values()
        wanted = placeholders(template, override)
        return render(template, override, **{k: values[k]() for k in wanted if k in values})

    def _run_role(self, name: str) -> dict[str, Any]:
        role = ROLES[name]
        self.on_event({"kind": "role", "role": name, "files": sorted(self.toolbox.touched)})
        agent = RoleAgent(
            role,
            self.model_for(role.model_key),
            self.toolbox.select(role.tools, role.finish),
            limits=self.settings.role_limits(name),
            budget=self.budget,
            transcript=self.transcript,
            protocol=self.settings.tool_protocol,
            on_event=self.on_event,
            touched=lambda: sorted(self.toolbox.touched),
        )
        try:
            system = self._fill(role.system_template, self.settings.prompts.get(name, ""))
            return agent.run(system, self._fill(role.task_template))
        finally:
            self.stats.setdefault(name, RoleStats(name)).add(agent.stats)

    def _transition(self, name: str, result: dict[str, Any]) -> str | None:
        """What the role's result leaves behind, and which role runs next (the table says)."""
        role, state = ROLES[name], self.state
        for key, target in role.keeps:  # e.g. the plan: in the state and as plan.md
            setattr(state, target, str(result.get(key, "")).strip())
            self.transcript.write_text(f"{target}.md", getattr(state, target) + "\n")
        state.feedback, state.feedback_round = "", 0
        loop = role.loop_back
        if loop is not None and not truthy(result.get(loop.verdict)):
            spent = state.rounds.get(name, 0)
            if spent < int(getattr(self.settings, loop.rounds)):
                state.rounds[name] = state.feedback_round = spent + 1
                state.feedback = str(result.get(loop.feedback, "")).strip() or "(no details given)"
                state.return_to = name if loop.come_back else ""
                return loop.to
            state.notes.append(Template(loop.exhausted).safe_substitute(rounds=spent))
        if state.return_to and state.return_to != name:
            back, state.return_to = state.return_to, ""
            return back
        state.return_to = ""
        return self._next_after(name)

    def run(self) -> CrewResult:
        """Run the remaining roles; never raises for a stop, returns the (partial) result."""
        started = time.monotonic()
        status: Status = "done"
        reason = ""
        self.announce()
        try:
            while self.state.next:
                role = self.state.next
                result = self._run_role(role)
                self.state.next = self._transition(role, result)
                self._save()
        except Cancelled as exc:
            status, reason = "cancelled", str(exc)
        except StopRun as exc:
            status, reason = "partial", str(exc)
        except EndpointError as exc:
            status, reason = "failed", str(exc)
        if status == "done" and self.state.notes:
            status, reason = "partial", "; ".join(self.state.notes)
        self.state.status = status
        self._save()
        return self._finish(status, reason, time.monotonic() - started)

    def _finish(self, status: Status, reason: str, seconds: float) -> CrewResult:
        diff = self.staged.diff()
        summary = self.state.summary or ("no changes" if not diff else diff.stat())
        result = CrewResult(
            self.run_id,
            self.run_dir,
            status,
            reason,
            summary,
            self.state.plan,
            diff,
            self.stats,
            seconds,
        )
        self.transcript.write_text("result.diff", diff.unified())
        self.transcript.write_json("summary.json", result.to_json())
        self.transcript.record("run_end", status=status, reason=reason, files=diff.files)
        self.on_event({"kind": "done", **result.to_json()})
        return result
