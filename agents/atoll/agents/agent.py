"""One role's loop: ask the model, run the tool it picked, feed the result back.

The loop ends only through exceptions: :class:`RoleFinished` (the model called its
finish tool) or a :class:`StopRun` (limits, cancellation, a model that never acts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from atoll.agents.actions import parse_action
from atoll.agents.errors import Cancelled, LimitExceeded, MalformedOutput, RoleFinished, ToolError
from atoll.agents.models import AssistantMessage, ChatModel, Message, ToolCall
from atoll.agents.prompts import render
from atoll.agents.roles import Role
from atoll.agents.tools import Tool, call_tool
from atoll.agents.transcript import Transcript

Protocol = Literal["auto", "native", "text"]
EventSink = Callable[[dict[str, Any]], None]
MAX_CORRECTIONS = 2  # consecutive answers without a usable action before giving up
KEEP_RECENT = 6  # messages at the end of the conversation never elided


@dataclass
class RunBudget:
    """Limits shared by every role of a run, plus the cancel flag."""

    deadline: float  # time.monotonic() value
    max_tokens: int
    cancel: threading.Event = field(default_factory=threading.Event)
    used_tokens: int = 0

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled by the user")
        if time.monotonic() > self.deadline:
            raise LimitExceeded("the run reached its wall-clock limit")
        if self.max_tokens and self.used_tokens > self.max_tokens:
            raise LimitExceeded(f"the run used more than its {self.max_tokens} tokens")


@dataclass
class RoleStats:
    role: str
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: int = 0
    seconds: float = 0.0

    def add(self, other: RoleStats) -> None:
        """Add ``other``'s counts to these (a role that ran more than once)."""
        for item in fields(self):
            if item.name != "role":
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class RoleLimits:
    max_steps: int = 12
    max_tokens_per_call: int = 1024
    max_tokens: int = 0  # the role's total, 0: only the run's budget
    wall_clock_s: float = 0.0  # 0: only the run's deadline
    context_chars: int = 24000


def _cancellable(call: Callable[[], AssistantMessage], budget: RunBudget) -> AssistantMessage:
    """Run a (blocking) model call so that a cancel or the deadline ends the wait at once.

    The abandoned call finishes in its thread and its answer is dropped; the user's
    cancel never waits for a slow model.
    """
    box: list[AssistantMessage | BaseException] = []
    done = threading.Event()

    def worker() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # handed to the caller's thread
            box.append(exc)
        finally:
            done.set()

    threading.Thread(target=worker, name="atoll-model-call", daemon=True).start()
    while not done.wait(0.05):
        budget.check()
    result = box[0]
    if isinstance(result, BaseException):
        raise result
    return result


class RoleAgent:
    """Runs one role to its finish tool (or to a stop)."""

    def __init__(
        self,
        role: Role,
        model: ChatModel,
        tools: dict[str, Tool],
        *,
        limits: RoleLimits,
        budget: RunBudget,
        transcript: Transcript,
        protocol: Protocol = "auto",
        on_event: EventSink | None = None,
        touched: Callable[[], list[str]] = list,
    ) -> None:
        self.role = role
        self.model = model
        self.tools = tools
        self.limits = limits
        self.budget = budget
        self.transcript = transcript
        self.protocol = protocol
        self.on_event = on_event or (lambda event: None)
        self.touched = touched
        self.stats = RoleStats(role.name)

    @property
    def native(self) -> bool:
        return self.protocol == "native" or (self.protocol == "auto" and self.model.supports_tools)

    def _text_protocol(self) -> str:
        listing = "\n".join(f"- {tool.signature()}" for tool in self.tools.values())
        return render("text_protocol", tools=listing)

    def _correction(self) -> str:
        names = ", ".join(self.tools)
        example = next((n for n in self.tools if n != self.role.finish.name), self.role.finish.name)
        return render("correction", example=example, names=names, finish=self.role.finish.name)

    def _fit_context(self, messages: list[Message]) -> None:
        """Elide the oldest tool output until the conversation fits the context budget."""
        size = sum(len(str(m.get("content") or "")) for m in messages)
        for message in messages[2 : max(2, len(messages) - KEEP_RECENT)]:
            if size <= self.limits.context_chars:
                return
            content = str(message.get("content") or "")
            if len(content) > 200:
                message["content"] = content[:120] + "\n[... older output elided ...]"
                size -= len(content) - len(message["content"])

    def _check_limits(self, started: float) -> None:
        self.budget.check()
        if self.stats.steps >= self.limits.max_steps:
            raise LimitExceeded(f"the {self.role.name} used all its {self.limits.max_steps} steps")
        spent = self.stats.prompt_tokens + self.stats.completion_tokens
        if self.limits.max_tokens and spent > self.limits.max_tokens:
            raise LimitExceeded(
                f"the {self.role.name} used more than {self.limits.max_tokens} tokens"
            )
        if self.limits.wall_clock_s and time.monotonic() - started > self.limits.wall_clock_s:
            raise LimitExceeded(f"the {self.role.name} reached its wall-clock limit")

    def _ask(self, messages: list[Message]) -> AssistantMessage:
        self._fit_context(messages)
        schemas = [tool.schema() for tool in self.tools.values()] if self.native else None
        reply = _cancellable(
            lambda: self.model.complete(
                messages, schemas, max_tokens=self.limits.max_tokens_per_call
            ),
            self.budget,
        )
        self.stats.steps += 1
        self.stats.prompt_tokens += reply.usage.prompt_tokens
        self.stats.completion_tokens += reply.usage.completion_tokens
        self.budget.used_tokens += reply.usage.total
        self.transcript.record(
            "assistant",
            role=self.role.name,
            step=self.stats.steps,
            content=reply.content,
            tool_calls=[{"name": c.name, "arguments": c.raw_arguments} for c in reply.tool_calls],
            usage={
                "prompt": reply.usage.prompt_tokens,
                "completion": reply.usage.completion_tokens,
            },
        )
        return reply

    def run(self, system: str, task: str, history: list[Message] | None = None) -> dict[str, Any]:
        """Run to the finish tool; returns its arguments. Raises :class:`StopRun` subclasses.

        ``history`` (earlier user/assistant turns, e.g. of a chat) goes between the system
        prompt and the task.
        """
        started = time.monotonic()
        if not self.native:
            system = system.rstrip() + "\n\n" + self._text_protocol()
        messages: list[Message] = [
            {"role": "system", "content": system},
            *(history or []),
            {"role": "user", "content": task},
        ]
        self.transcript.record("role_start", role=self.role.name, system=system, task=task)
        corrections = 0
        try:
            while True:
                self._check_limits(started)
                reply = self._ask(messages)
                messages.append(reply.to_message())
                calls, problem = self._calls(reply)
                if not calls:
                    if self.role.text_answer and reply.content.strip() and problem is None:
                        raise RoleFinished({self.role.text_answer: reply.content.strip()})
                    corrections += 1
                    if corrections > MAX_CORRECTIONS:
                        raise MalformedOutput(
                            f"the {self.role.name} answered {corrections} times without a "
                            "valid action"
                        )
                    note = problem or self._correction()
                    self.transcript.record("correction", role=self.role.name, content=note)
                    self.on_event(
                        {
                            "kind": "step",
                            "role": self.role.name,
                            "step": self.stats.steps,
                            "tool": "no valid action; correcting",
                            "files": self.touched(),
                        }
                    )
                    messages.append({"role": "user", "content": note})
                    continue
                corrections = 0
                for call in calls:
                    messages.append(self._execute(call, reply))
        except RoleFinished as done:
            self.transcript.record("role_end", role=self.role.name, result=done.result)
            return done.result
        finally:
            self.stats.seconds += time.monotonic() - started

    def _calls(self, reply: AssistantMessage) -> tuple[list[ToolCall], str | None]:
        if reply.tool_calls:
            return list(reply.tool_calls), None
        params = {
            name: (*tool.required, *(p for p in tool.parameters if p not in tool.required))
            for name, tool in self.tools.items()
        }
        try:
            call = parse_action(reply.content, params)
        except ToolError as exc:
            return [], str(exc)
        return ([call] if call else []), None

    def _execute(self, call: ToolCall, reply: AssistantMessage) -> Message:
        self.budget.check()
        self.stats.tool_calls += 1
        self.on_event(
            {
                "kind": "step",
                "role": self.role.name,
                "step": self.stats.steps,
                "tool": call.name,
                "files": self.touched(),
            }
        )
        try:
            output = call_tool(self.tools, call)
            ok = True
        except ToolError as exc:
            output, ok = f"error: {exc}", False
        except RoleFinished:
            self.transcript.record(
                "tool_call", role=self.role.name, name=call.name, arguments=call.arguments
            )
            raise
        self.transcript.record(
            "tool_call",
            role=self.role.name,
            name=call.name,
            arguments=call.arguments,
            ok=ok,
            output=output,
        )
        if reply.tool_calls:
            return {"role": "tool", "tool_call_id": call.id, "content": output}
        return {"role": "user", "content": f"Result of {call.name}:\n{output}"}
