"""Constrained decoding of actions: the schema per role, the choice of decoding, the loop.

The loop runs on the scripted model claiming structured output, so the answers are the
JSON a grammar or a server's structured output would produce.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atoll.agents import CrewRun, CrewSettings, RoleLimits, ScriptedChatModel
from atoll.agents.actions import ActionFormatError
from atoll.agents.decoding import (
    action_schema,
    choose_decoding,
    parse_constrained,
    structured_body,
)
from atoll.agents.models import Capabilities
from atoll.agents.roles import ROLES
from atoll.agents.staging import StagedWorkspace
from atoll.agents.tools import ToolBox

STRUCTURED = Capabilities(structured="json_schema")


def act(tool: str, **args: Any) -> str:
    """What a grammar-held model answers: one JSON action, nothing around it."""
    return json.dumps({"tool": tool, "args": args})


def reviewer_schema(tmp_path: Path) -> dict[str, Any]:
    role = ROLES["reviewer"]
    tools = ToolBox(StagedWorkspace.view(tmp_path)).select(role.tools, role.finish)
    return action_schema(tools.values(), {role.finish.name: role.prose})


def test_the_schema_offers_each_tool_with_its_arguments_and_leaves_prose_out(
    tmp_path: Path,
) -> None:
    schema = reviewer_schema(tmp_path)
    options = {o["properties"]["tool"]["const"]: o for o in schema["anyOf"]}
    assert list(options) == [*ROLES["reviewer"].tools, "review"]
    read = options["read_file"]
    assert list(read["properties"]) == ["tool", "args"]  # the name first: grammars keep order
    assert read["required"] == ["tool", "args"] and read["additionalProperties"] is False
    assert read["properties"]["args"]["required"] == ["path"]
    assert set(read["properties"]["args"]["properties"]) == {"path", "start_line", "end_line"}
    review = options["review"]["properties"]["args"]
    assert review["properties"] == {
        "approved": {"type": "boolean", "description": "true when the change is good"}
    }
    assert review["required"] == ["approved"]


@pytest.mark.parametrize(
    ("protocol", "caps", "expected"),
    [
        ("auto", Capabilities(native=True, required=True, structured="json_schema"), "native"),
        ("auto", Capabilities(native=True, structured="json_object"), "constrained"),
        ("auto", Capabilities(structured="grammar"), "constrained"),
        ("auto", Capabilities(native=True), "native"),
        ("auto", Capabilities(), "text"),
        ("constrained", Capabilities(native=True, required=True), "text"),
        ("constrained", STRUCTURED, "constrained"),
        ("native", Capabilities(), "native"),
        ("text", Capabilities(native=True, required=True, structured="grammar"), "text"),
    ],
)
def test_the_decoding_follows_the_protocol_and_what_the_model_supports(
    protocol: Any, caps: Capabilities, expected: str
) -> None:
    assert choose_decoding(protocol, caps) == expected


def test_constrained_answers_parse_and_a_cut_off_one_is_a_fixable_error() -> None:
    call = parse_constrained('{ "tool": "read_file", "args": { "path": "a.py" } }')
    assert call is not None and (call.name, call.arguments) == ("read_file", {"path": "a.py"})
    with pytest.raises(ActionFormatError, match="cut off"):
        parse_constrained('{"tool": "write_file", "args": {"path": "a.py", "content": "x')
    # A server that took the schema only as a hint may still fence it.
    fenced = parse_constrained('```action\n{"tool": "diff", "args": {}}\n```')
    assert fenced is not None and fenced.name == "diff"
    with pytest.raises(ValueError):
        structured_body("grammar", {})


def test_a_constrained_crew_acts_then_writes_its_prose_as_free_text(
    sample_workspace: Path,
) -> None:
    script = [
        act("submit_plan"),
        "1. write a.py",  # the plan: free text, asked for after the finish action
        act("write_file", path="a.py", content="a = 1\n"),
        act("finish"),
        "wrote a.py",  # the summary
        act("review", approved=False),
        "call it b",  # the change requests (the verdict was no)
        act("write_file", path="a.py", content="b = 1\n"),
        act("finish"),
        "renamed",
        act("review", approved=True),  # approved: no change requests asked for
    ]
    model = ScriptedChatModel(script, capabilities=STRUCTURED)
    settings = CrewSettings(roles=("architect", "coder", "reviewer"), max_review_rounds=1)
    run = CrewRun.start(sample_workspace, "add a.py", model_for=lambda r: model, settings=settings)
    result = run.run()
    assert (result.status, result.reason, result.plan) == ("done", "", "1. write a.py")
    assert [c.new_text for c in result.diff.changes] == ["b = 1\n"]
    assert not model.script
    # Action turns (A) carry the role's schema; prose turns (p) carry none.
    kinds = "".join("A" if r["schema"] else "p" for r in model.requests)
    assert kinds == "ApAApApAApA"
    assert "call it b" in model.calls[7][-1]["content"]
    assert "How to act" in model.calls[0][0]["content"]  # the JSON protocol in the prompt
    stats = result.stats
    assert all(s.valid_actions == s.action_turns for s in stats.values())
    assert (stats["coder"].prose_calls, stats["reviewer"].prose_calls) == (2, 1)


def test_results_say_how_to_finish_and_a_repeated_action_is_not_run_twice(
    sample_workspace: Path,
) -> None:
    script = [
        act("list_dir", path="."),
        act("list_dir", path="."),
        act("finish"),
        act("finish"),  # "prose" that is another action: no summary rather than JSON
    ]
    model = ScriptedChatModel(script, capabilities=STRUCTURED)
    settings = CrewSettings(roles=("solo",), limits={"solo": RoleLimits(max_steps=5)})
    result = CrewRun.start(
        sample_workspace, "look", model_for=lambda r: model, settings=settings
    ).run()
    assert result.status == "done" and result.summary == "no changes"
    first, second = model.calls[1][-1]["content"], model.calls[2][-1]["content"]
    assert first.startswith("Result of list_dir:") and '{"tool": "finish", "args": {}}' in first
    assert "you just did exactly this" in second
    assert result.stats["solo"].tool_calls == 3


def test_the_architect_hands_over_a_plan_on_its_last_step(sample_workspace: Path) -> None:
    script = [act("list_dir", path="."), act("submit_plan"), "look first", act("finish"), "ok"]
    model = ScriptedChatModel(script, capabilities=STRUCTURED)
    limits = RoleLimits(max_steps=2)
    settings = CrewSettings(roles=("architect", "coder"), limits={"architect": limits})
    result = CrewRun.start(
        sample_workspace, "x", model_for=lambda r: model, settings=settings
    ).run()
    assert (result.status, result.plan) == ("done", "look first")
    first, last = (r["schema"]["anyOf"] for r in model.requests[:2])
    assert len(first) == len(ROLES["architect"].tools) + 1
    assert [o["properties"]["tool"]["const"] for o in last] == ["submit_plan"]
    # Roles without wrap_up keep every tool to their last step (and stop as partial).
    assert not ROLES["coder"].wrap_up and ROLES["architect"].wrap_up
