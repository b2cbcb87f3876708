"""How a model's answer becomes an action: native tool calls, constrained output or text.

- ``native``: the server's own tool calls; with ``tool_choice: "required"`` (where the
  server supports it) every answer is a call, which makes them reliable.
- ``constrained``: the answer must match a JSON schema built from the role's tools (one
  of the tools with its argument schema). In-process llama.cpp turns the schema into a
  grammar; servers get it as structured output, in the request shape they understand.
- ``text``: fenced action blocks in free text (:mod:`atoll.agents.actions`), for servers
  that offer neither.

Small models "explain instead of act": under ``native`` with ``auto`` or under ``text``
they print code instead of calling a tool. Constrained decoding makes every answer an
action; prose (plans, reviews, summaries) is then asked for separately, as free text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from atoll.agents.actions import ActionFormatError, parse_action
from atoll.agents.models import Capabilities, Structured, ToolCall
from atoll.agents.tools import Tool

Decoding = Literal["native", "constrained", "text"]
Protocol = Literal["auto", "native", "constrained", "text"]
SERVER_STYLES: tuple[Structured, ...] = (
    "json_schema",  # OpenAI's response_format: vLLM, llama.cpp's llama-server, SGLang
    "structured_outputs",  # vLLM's own parameter (vLLM >= 0.10.2)
    "guided_json",  # vLLM's older parameter
    "json_object",  # llama-cpp-python's server: response_format json_object + schema
)


def choose_decoding(protocol: Protocol, caps: Capabilities) -> Decoding:
    """``auto``: forced native calls, else constrained output, else native calls, else text."""
    if protocol == "text" or protocol == "native":
        return protocol
    if protocol == "constrained":
        return "constrained" if caps.structured else "text"
    if caps.required:
        return "native"
    if caps.structured:
        return "constrained"
    return "native" if caps.native else "text"


# -- schemas --------------------------------------------------------------------------------


def args_schema(tool: Tool, drop: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema of ``tool``'s arguments, without the fields in ``drop``."""
    return {
        "type": "object",
        "properties": {k: v for k, v in tool.parameters.items() if k not in drop},
        "required": [k for k in tool.required if k not in drop],
        "additionalProperties": False,
    }


def action_schema(tools: Iterable[Tool], prose: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One of ``tools`` with its arguments: ``{"tool": NAME, "args": {...}}``.

    ``prose`` maps a (finish) tool to its prose fields, which are left out: they are
    written afterwards as free text. The order of ``tools`` is kept: small models lean
    towards the first alternatives, so a role lists its main tools first.
    """
    return {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "tool": {"const": tool.name},
                    "args": args_schema(tool, prose.get(tool.name, ())),
                },
                "required": ["tool", "args"],
                "additionalProperties": False,
            }
            for tool in tools
        ]
    }


# -- request shapes -------------------------------------------------------------------------


def structured_body(style: Structured, schema: dict[str, Any]) -> dict[str, Any]:
    """The request fields that make a server's answer match ``schema``."""
    if style == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "action", "schema": schema},
            }
        }
    if style == "structured_outputs":
        return {"structured_outputs": {"json": schema}}
    if style == "guided_json":
        return {"guided_json": schema}
    if style == "json_object":
        # That server also penalises repeats unless told (OpenAI's default is none), and
        # an action's JSON repeats by nature; without it, it also answers unlike
        # in-process llama.cpp on the same model.
        return {"response_format": {"type": "json_object", "schema": schema}, "repeat_penalty": 1.0}
    raise ValueError(f"{style} is an in-process style, not a request field")


def native_body(tools: Sequence[dict[str, Any]], required: bool) -> dict[str, Any]:
    return {"tools": list(tools), "tool_choice": "required" if required else "auto"}


# -- answers --------------------------------------------------------------------------------


def parse_constrained(text: str) -> ToolCall | None:
    """The action in a constrained answer; a cut-off answer is an error the model can fix."""
    try:
        obj = json.loads(text.strip())
    except json.JSONDecodeError:
        call = parse_action(text)  # a server that took the schema as a hint only
        if call is None and text.strip().startswith("{"):
            raise ActionFormatError(
                "the answer was cut off before the action was complete; send a shorter "
                "one (write a big file in parts with edit_file)"
            ) from None
        return call
    if not isinstance(obj, dict) or not isinstance(obj.get("tool"), str):
        return None
    args = obj.get("args") if isinstance(obj.get("args"), dict) else {}
    return ToolCall(obj["tool"], args, json.dumps(args))


# -- detecting what a server supports --------------------------------------------------------

# A chat-completion body in, the answer's JSON out; None when the server refused it (4xx).
Post = Callable[[dict[str, Any]], "dict[str, Any] | None"]
PROBE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "report_status",
        "description": "Report that the tool channel works.",
        "parameters": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
        },
    },
}
PROBE_TOOL_MESSAGES = [{"role": "user", "content": "Call report_status with ok=true."}]
# An answer no model gives unless the server holds it to the schema.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"atoll_probe": {"type": "string", "enum": ["kestrel-7"]}},
    "required": ["atoll_probe"],
    "additionalProperties": False,
}


def _message(answer: dict[str, Any] | None) -> dict[str, Any]:
    try:
        message = answer["choices"][0]["message"] if answer else {}
    except (KeyError, IndexError, TypeError):
        return {}
    return message if isinstance(message, dict) else {}


def probe_tools(post: Post, model: str, tool_choice: str) -> bool:
    """Does the server answer with a real call of the probe tool?"""
    body = {
        "model": model,
        "messages": PROBE_TOOL_MESSAGES,
        "max_tokens": 48,
        "temperature": 0,
        **native_body([PROBE_TOOL], tool_choice == "required"),
    }
    calls = _message(post(body)).get("tool_calls") or []
    if not calls or calls[0].get("function", {}).get("name") != "report_status":
        return False
    try:
        return isinstance(json.loads(calls[0]["function"].get("arguments") or "{}"), dict)
    except (TypeError, ValueError):
        return False


def probe_structured(post: Post, model: str, style: Structured) -> bool:
    """Does the server hold its answer to a schema sent in ``style``?"""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 24,
        "temperature": 0,
        **structured_body(style, PROBE_SCHEMA),
    }
    try:
        answer = json.loads(_message(post(body)).get("content") or "")
        return bool(answer == {"atoll_probe": "kestrel-7"})
    except (TypeError, ValueError):
        return False


def detect(post: Post, model: str) -> Capabilities:
    """Probe a server: forced and free tool calls, and the first structured style it honours."""
    structured = next((s for s in SERVER_STYLES if probe_structured(post, model, s)), None)
    return Capabilities(
        native=probe_tools(post, model, "auto"),
        required=probe_tools(post, model, "required"),
        structured=structured,
    )
