"""The text protocol: one fenced action block per turn, for models without tool calls.

An action is a JSON object naming a tool and its arguments::

    ```action
    {"tool": "read_file", "args": {"path": "app.py"}}
    ```

Small models often describe what they would do instead of doing it; the parser tells
"no action" (answered with a correcting reply) from "a broken action" (answered with
the parse error), and accepts the object without a fence as a courtesy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from atoll.agents.errors import ToolError
from atoll.agents.models import ToolCall

_FENCE = re.compile(r"```[ \t]*([\w-]*)[ \t]*\n(.*?)```", re.DOTALL)
_SEARCH_REPLACE = re.compile(
    r"<{5,9} ?SEARCH[ \t]*\n(?P<search>.*?)^={5,9}[ \t]*\n(?P<replace>.*?)^>{5,9} ?REPLACE",
    re.DOTALL | re.MULTILINE,
)
_ACTION_LANGS = {"action", "tool", "json", ""}
_TOOL_KEYS = ("tool", "name", "action")
_ARG_KEYS = ("args", "arguments", "parameters", "input")


class ActionFormatError(ToolError):
    """An action block that cannot be read; the message tells the model how to fix it."""


def _as_call(obj: Any) -> ToolCall | None:
    if not isinstance(obj, dict):
        return None
    name = next((obj[k] for k in _TOOL_KEYS if isinstance(obj.get(k), str)), None)
    if name is None:
        return None
    args = next((obj[k] for k in _ARG_KEYS if k in obj), None)
    if args is None:
        args = {k: v for k, v in obj.items() if k not in _TOOL_KEYS}
    if not isinstance(args, dict):
        raise ActionFormatError(f'the "args" of {name} must be a JSON object')
    return ToolCall(name, args, json.dumps(args))


def _bare_objects(text: str) -> list[ToolCall]:
    decoder = json.JSONDecoder()
    found: list[ToolCall] = []
    for match in re.finditer(r'\{\s*"(?:tool|name|action)"', text):
        try:
            obj, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        call = _as_call(obj)
        if call is not None:
            found.append(call)
    return found


def _plain_block(body: str, params: Mapping[str, Sequence[str]]) -> ToolCall | None:
    """The plain form: ``TOOL [ARG]`` on the first line, the rest is the main text.

    ``edit_file PATH`` takes a SEARCH/REPLACE block; ``write_file PATH`` the file's text;
    ``run_command`` the command. Easier for models than JSON-escaping code.
    """
    first, _, rest = body.partition("\n")
    name, _, inline = first.strip().partition(" ")
    if name not in params:
        return None
    names = list(params[name])
    args: dict[str, Any] = {}
    if inline.strip() and names:
        args[names.pop(0)] = inline.strip()
    if "search" in names and "replace" in names:
        match = _SEARCH_REPLACE.search(rest)
        if match is None:
            raise ActionFormatError(
                f"{name} needs a block: <<<<<<< SEARCH, the exact old lines, =======, the "
                "new lines, >>>>>>> REPLACE"
            )
        args["search"], args["replace"] = match.group("search"), match.group("replace")
    elif rest.strip() and names:
        args[names[0]] = rest if names[0] == "content" else rest.strip()
    return ToolCall(name, args, json.dumps(args))


def parse_action(text: str, params: Mapping[str, Sequence[str]] | None = None) -> ToolCall | None:
    """The one action in ``text``; ``None`` when it holds none; an error when it is broken.

    ``params`` maps tool names to their parameter names (required first); it enables the
    plain ``TOOL ARG`` block form.
    """
    calls: list[ToolCall] = []
    broken: list[str] = []
    for lang, body in _FENCE.findall(text):
        if lang.lower() not in _ACTION_LANGS:
            continue
        stripped = body.strip()
        if not stripped.startswith("{"):
            if params and lang.lower() in ("action", "tool"):
                try:
                    plain = _plain_block(body, params)
                except ActionFormatError as exc:
                    broken.append(str(exc).rstrip("."))
                    continue
                if plain is not None:
                    calls.append(plain)
            continue
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            broken.append(f"invalid JSON in the action block ({exc.msg} at line {exc.lineno})")
            continue
        call = _as_call(obj)
        if call is None:
            broken.append('the action object needs a "tool" name and an "args" object')
        else:
            calls.append(call)
    if not calls and not broken:
        calls = _bare_objects(text)
    if len(calls) > 1:
        raise ActionFormatError(
            f"{len(calls)} actions in one answer; send exactly one action block per turn "
            "and wait for its result"
        )
    if calls:
        return calls[0]
    if broken:
        raise ActionFormatError(
            broken[0] + '. Write it as ```action\n{"tool": "NAME", "args": {...}}\n``` '
            'with strings JSON-escaped (\\n for new lines, \\" for quotes).'
        )
    return None
