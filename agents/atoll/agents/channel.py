"""How one role talks to its model under a decoding: what it asks for, how it reads answers.

A :class:`ActionChannel` holds everything that differs between native tool calls,
constrained output and the text protocol: the instructions added to the system prompt,
the request (tools, or a JSON schema), the parsing of an answer into tool calls, the
message that carries a tool's result back, and the prose asked for after a finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from atoll.agents.actions import parse_action
from atoll.agents.decoding import Decoding, action_schema, parse_constrained
from atoll.agents.errors import ToolError
from atoll.agents.models import AssistantMessage, Message, ToolCall
from atoll.agents.prompts import render
from atoll.agents.roles import Role, truthy
from atoll.agents.tools import Tool

# One worked example per kind of role, the first whose tool the role has. Small models
# copy the shape of an example far better than they follow a description.
EXAMPLES = (
    (
        "write_file",
        "Task: create a new file named notes.md with the content see you later",
        {"path": "notes.md", "content": "see you later"},
    ),
    ("read_file", "Task: explain what src/app.py does", {"path": "src/app.py"}),
)


def _sample(spec: dict[str, Any]) -> Any:
    return {"boolean": True, "integer": 1}.get(str(spec.get("type")), "...")


@dataclass
class ActionChannel:
    """The decoding of one role's turns; see the module docstring."""

    decoding: Decoding
    role: Role
    tools: dict[str, Tool]
    schema: dict[str, Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.decoding == "constrained":
            finish = self.role.finish
            prose = {finish.name: self.role.prose}
            self.schema = action_schema(self.tools.values(), prose)
            # The prose comes afterwards, so the finish call itself does not need it.
            required = tuple(k for k in finish.required if k not in self.role.prose)
            self.tools = {**self.tools, finish.name: replace(finish, required=required)}

    @property
    def finish_example(self) -> str:
        finish = self.role.finish
        args = {k: _sample(v) for k, v in finish.parameters.items() if self._asks_inline(k)}
        return json.dumps({"tool": finish.name, "args": args})

    def _asks_inline(self, name: str) -> bool:
        """Is a finish field part of the action (not prose asked for afterwards)?"""
        return not (self.decoding == "constrained" and name in self.role.prose)

    def instructions(self) -> str:
        """What the system prompt gains: how to act under this decoding."""
        listing = "\n".join(f"- {tool.signature()}" for tool in self.tools.values())
        if self.decoding == "text":
            return render("text_protocol", tools=listing)
        if self.decoding == "native":
            return ""
        tool, task, args = next((e for e in EXAMPLES if e[0] in self.tools), ("", "", {}))
        example = f"{task}\nAnswer: {json.dumps({'tool': tool, 'args': args})}" if tool else ""
        return render("json_protocol", example=example, finish=self.finish_example, tools=listing)

    def request(self, last: bool = False) -> dict[str, Any]:
        """The keyword arguments of :meth:`ChatModel.complete` for an action turn.

        ``last``: the role's last step, and it hands over what it has (``Role.wrap_up``):
        under constrained output the finish action is then the only one on offer.
        """
        if self.decoding == "native":
            return {"tools": [tool.schema() for tool in self.tools.values()]}
        if self.decoding == "constrained" and last and self.role.wrap_up:
            finish = self.tools[self.role.finish.name]
            return {"schema": action_schema([finish], {finish.name: self.role.prose})}
        if self.decoding == "constrained":
            return {"schema": self.schema}
        return {}

    def calls(self, reply: AssistantMessage) -> tuple[list[ToolCall], str | None]:
        """The tool calls in an answer, or the problem to tell the model."""
        if reply.tool_calls:
            return list(reply.tool_calls), None
        try:
            if self.decoding == "constrained":
                call = parse_constrained(reply.content)
            else:
                params = {
                    name: (*tool.required, *(p for p in tool.parameters if p not in tool.required))
                    for name, tool in self.tools.items()
                }
                call = parse_action(reply.content, params)
        except ToolError as exc:
            return [], str(exc)
        return ([call] if call else []), None

    def valid(self, call: ToolCall) -> bool:
        """A call of one of the role's tools with every required argument."""
        tool = self.tools.get(call.name)
        if tool is None or call.arguments is None:
            return False
        return all(k in call.arguments for k in tool.required)

    def correction(self) -> str:
        names = ", ".join(self.tools)
        finish = self.role.finish.name
        example = next((n for n in self.tools if n != finish), finish)
        return render("correction", example=example, names=names, finish=finish)

    def result_message(self, call: ToolCall, output: str, native: bool) -> Message:
        if native:
            return {"role": "tool", "tool_call_id": call.id, "content": output}
        text = f"Result of {call.name}:\n{output}"
        if self.decoding == "constrained":
            # Small models forget to stop: say how, right where the next action is chosen.
            text += f"\n\nNext action? When the work is done: {self.finish_example}"
        return {"role": "user", "content": text}

    def prose_requests(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        """(field, request) for each prose field to write after a constrained finish.

        A loop's feedback is not asked for when the verdict is good (an approval needs no
        change requests).
        """
        if self.decoding != "constrained":
            return []
        loop = self.role.loop_back
        out = []
        for name in self.role.prose:
            if str(result.get(name) or "").strip():
                continue
            if loop and name == loop.feedback and truthy(result.get(loop.verdict)):
                continue
            spec = self.role.finish.parameters.get(name, {})
            out.append((name, render("prose", what=str(spec.get("description", name)))))
        return out
