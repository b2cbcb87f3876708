"""One role's loop: ask the model, run the tool it picked, feed the result back.

The loop ends only through exceptions: :class:`RoleFinished` (the model called its
finish tool) or a :class:`StopRun` (limits, cancellation, a model that never acts).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any

from atoll.agents.channel import ActionChannel
from atoll.agents.decoding import Decoding, Protocol, choose_decoding
from atoll.agents.errors import Cancelled, LimitExceeded, MalformedOutput, RoleFinished, ToolError
from atoll.agents.models import AssistantMessage, Capabilities, ChatModel, Message, ToolCall
from atoll.agents.roles import Role
from atoll.agents.tools import Tool, call_tool
from atoll.agents.transcript import Transcript

EventSink = Callable[[dict[str, Any]], None]


def ignore_event(event: dict[str, Any]) -> None:
    """The event sink of a run nobody watches."""


def describe_event(event: Mapping[str, Any]) -> str:
    """A role or step event as one progress line: the role, its step and the files touched
    (the editor's work-done progress, the MCP server's progress notifications)."""
    files = event.get("files") or []
    touched = f" — files: {', '.join(files[:4])}{' …' if len(files) > 4 else ''}" if files else ""
    if event["kind"] == "role":
        return f"{event['role']}: starting{touched}"
    return f"{event['role']} — step {event['step']}: {event['tool']}{touched}"


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
    action_turns: int = 0  # answers that were to be an action
    valid_actions: int = 0  # ... and were one: a known tool with its required arguments
    prose_calls: int = 0  # free-text answers asked for after a constrained finish

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
    prose_tokens: int = 400  # the length cap of free text (plans, reviews, summaries)


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


@dataclass(eq=False)
class RoleAgent:
    """Runs one role to its finish tool (or to a stop)."""

    role: Role
    model: ChatModel
    tools: dict[str, Tool]
    _: KW_ONLY
    limits: RoleLimits
    budget: RunBudget
    transcript: Transcript
    protocol: Protocol = "auto"
    on_event: EventSink | None = None
    touched: Callable[[], list[str]] = list
    stats: RoleStats = field(init=False)
    _channel: ActionChannel | None = field(default=None, init=False)
    _last_call: tuple[str, str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.stats = RoleStats(self.role.name)

    def _emit(self, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(event)

    @property
    def decoding(self) -> Decoding:
        return self.channel.decoding

    @property
    def channel(self) -> ActionChannel:
        """Chosen on first use: asking a server what it supports costs a few requests."""
        if self._channel is None:
            wants_caps = self.protocol in ("auto", "constrained")
            caps = self.model.capabilities if wants_caps else Capabilities()
            self._channel = ActionChannel(
                choose_decoding(self.protocol, caps), self.role, self.tools
            )
        return self._channel

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

    def _ask(self, messages: list[Message], *, prose: bool = False) -> AssistantMessage:
        self._fit_context(messages)
        last = self.stats.steps + 1 >= self.limits.max_steps
        request = {} if prose else self.channel.request(last)
        max_tokens = self.limits.max_tokens_per_call
        if prose:
            max_tokens = min(max_tokens, self.limits.prose_tokens)
        reply = _cancellable(
            lambda: self.model.complete(messages, max_tokens=max_tokens, **request), self.budget
        )
        self.stats.steps += 1
        self.stats.prompt_tokens += reply.usage.prompt_tokens
        self.stats.completion_tokens += reply.usage.completion_tokens
        self.budget.used_tokens += reply.usage.total
        self.transcript.record(
            "assistant",
            role=self.role.name,
            step=self.stats.steps,
            decoding="free" if prose else self.decoding,
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
        instructions = self.channel.instructions()
        if instructions:
            system = system.rstrip() + "\n\n" + instructions
        messages: list[Message] = [
            {"role": "system", "content": system},
            *(history or []),
            {"role": "user", "content": task},
        ]
        self.transcript.record(
            "role_start", role=self.role.name, decoding=self.decoding, system=system, task=task
        )
        try:
            self._loop(messages, started)
        except RoleFinished as done:
            result = self._with_prose(done.result, messages)
            self.transcript.record("role_end", role=self.role.name, result=result)
            return result
        finally:
            self.stats.seconds += time.monotonic() - started
        raise AssertionError("the loop ends only by an exception")  # pragma: no cover

    def _loop(self, messages: list[Message], started: float) -> None:
        corrections = 0
        while True:
            self._check_limits(started)
            reply = self._ask(messages)
            messages.append(reply.to_message())
            calls, problem = self.channel.calls(reply)
            self.stats.action_turns += 1
            if calls and all(self.channel.valid(c) for c in calls):
                self.stats.valid_actions += 1
            if not calls:
                if self.role.text_answer and reply.content.strip() and problem is None:
                    self.stats.valid_actions += 1  # prose is this role's answer
                    raise RoleFinished({self.role.text_answer: reply.content.strip()})
                corrections += 1
                if corrections > MAX_CORRECTIONS:
                    raise MalformedOutput(
                        f"the {self.role.name} answered {corrections} times without a valid action"
                    )
                messages.append(self._correct(problem or self.channel.correction()))
                continue
            corrections = 0
            for call in calls:
                messages.append(self._execute(call, reply))

    def _correct(self, note: str) -> Message:
        self.transcript.record("correction", role=self.role.name, content=note)
        self._emit(
            {
                "kind": "step",
                "role": self.role.name,
                "step": self.stats.steps,
                "tool": "no valid action; correcting",
                "files": self.touched(),
            }
        )
        return {"role": "user", "content": note}

    def _with_prose(self, result: dict[str, Any], messages: list[Message]) -> dict[str, Any]:
        """After a constrained finish: the prose fields, each as free text with a length cap."""
        result = dict(result)
        for name, request in self.channel.prose_requests(result):
            reply = self._ask([*messages, {"role": "user", "content": request}], prose=True)
            self.stats.prose_calls += 1
            text = reply.content.strip()
            # A model that answers with another action has written no prose.
            result[name] = "" if text.startswith("{") and self.channel.calls(reply)[0] else text
        return result

    def _execute(self, call: ToolCall, reply: AssistantMessage) -> Message:
        self.budget.check()
        self.stats.tool_calls += 1
        self._emit(
            {
                "kind": "step",
                "role": self.role.name,
                "step": self.stats.steps,
                "tool": call.name,
                "files": self.touched(),
            }
        )
        same = (call.name, json.dumps(call.arguments, sort_keys=True))
        repeated, self._last_call = same == self._last_call, same
        try:
            if repeated and call.name != self.role.finish.name:
                # Small models loop on one action; running it again would change nothing.
                raise ToolError(
                    f"you just did exactly this; do the next step or finish with "
                    f"{self.channel.finish_example}"
                )
            output = call_tool(self.channel.tools, call)
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
        return self.channel.result_message(call, output, native=bool(reply.tool_calls))
