"""The text protocol's parser: one action per turn, clear errors, no action when chatting."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.agents import ToolError
from atoll.agents.actions import parse_action


def test_fenced_action() -> None:
    call = parse_action(
        'Let me look.\n```action\n{"tool": "read_file", "args": {"path": "a.py"}}\n```'
    )
    assert call is not None and (call.name, call.arguments) == ("read_file", {"path": "a.py"})


def test_other_spellings_and_bare_objects() -> None:
    call = parse_action('```json\n{"name": "list_dir", "arguments": {}}\n```')
    assert call is not None and call.name == "list_dir"
    call = parse_action('Sure: {"tool": "outline", "args": {}} is next')
    assert call is not None and call.name == "outline"


def test_describing_is_not_acting() -> None:
    assert parse_action("I would first read the file and then edit it.") is None
    assert parse_action("```python\nprint('hi')\n```") is None


def test_two_actions_and_broken_json_are_errors() -> None:
    two = '```action\n{"tool": "a", "args": {}}\n```\n```action\n{"tool": "b", "args": {}}\n```'
    with pytest.raises(ToolError, match="one action"):
        parse_action(two)
    with pytest.raises(ToolError, match="invalid JSON"):
        parse_action('```action\n{"tool": "a", "args": {"path": "x"\n```')


@given(
    name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    args=st.dictionaries(st.text(max_size=8), st.text(max_size=30) | st.integers(), max_size=4),
    chatter=st.text(alphabet="abc .\n", max_size=40),
)
def test_any_well_formed_action_round_trips(
    name: str, args: dict[str, object], chatter: str
) -> None:
    block = json.dumps({"tool": name, "args": args})
    call = parse_action(f"{chatter}\n```action\n{block}\n```\n{chatter}")
    assert call is not None and call.name == name and call.arguments == args


PARAMS = {
    "edit_file": ("path", "search", "replace"),
    "write_file": ("path", "content"),
    "run_command": ("command", "timeout_s"),
    "read_file": ("path", "start_line", "end_line"),
}


def test_plain_blocks_for_code() -> None:
    edit = "```action\nedit_file src/app.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n```"
    call = parse_action(edit, PARAMS)
    assert call is not None and call.arguments == {
        "path": "src/app.py",
        "search": "    return a - b\n",
        "replace": "    return a + b\n",
    }
    call = parse_action('```action\nwrite_file a.py\nprint("hi")\n\n```', PARAMS)
    assert call is not None and call.arguments == {"path": "a.py", "content": 'print("hi")\n\n'}
    call = parse_action("```action\nrun_command\npytest -q\n```", PARAMS)
    assert call is not None and call.arguments == {"command": "pytest -q"}
    call = parse_action("```action\nread_file a.py\n```", PARAMS)
    assert call is not None and call.arguments == {"path": "a.py"}
    # Without the tool table, or in an ordinary code block, plain text is not an action.
    assert parse_action("```action\nread_file a.py\n```") is None
    assert parse_action("```python\nread_file a.py\n```", PARAMS) is None
    with pytest.raises(ToolError, match="SEARCH"):
        parse_action("```action\nedit_file a.py\nold -> new\n```", PARAMS)


@given(
    search=st.text(alphabet="ab ()\t", max_size=30).map(lambda s: s.replace("\n", "") + "\n"),
    replace=st.text(alphabet="cd\n\t", max_size=30).map(lambda s: s + "\n"),
)
def test_search_replace_blocks_round_trip(search: str, replace: str) -> None:
    block = (
        f"```action\nedit_file f.py\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```"
    )
    call = parse_action(block, PARAMS)
    assert call is not None and call.arguments is not None
    assert (call.arguments["search"], call.arguments["replace"]) == (search, replace)
