"""The crew's tools over the real workspace index, and the code action's task texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from atoll.agents import StagedWorkspace, ToolError
from atoll.agents.models import ToolCall
from atoll.agents.tools import ToolBox, call_tool
from atoll.config import load_config
from atoll.indexing import WorkspaceIndex
from atoll.server.features.code_actions import delegate_tasks


def test_index_tools_answer_from_the_real_index(sample_workspace: Path, tmp_path: Path) -> None:
    config = load_config(sample_workspace, cli={"indexing.embeddings": "false"}).config
    index = WorkspaceIndex.open(sample_workspace, config)
    try:
        index.index_all()
        box = ToolBox(
            StagedWorkspace.create(sample_workspace, tmp_path / "run"), index, sample_workspace
        )
        tools = box.all_tools()
        found = call_tool(tools, ToolCall("find_symbols", {"query": "format_cents"}))
        assert "format_cents inventory/report.py:" in found
        hits = call_tool(tools, ToolCall("search_code", {"query": "low stock threshold", "k": 2}))
        assert "inventory/report.py" in hits
        assert "report.py" in call_tool(tools, ToolCall("outline", {}))
    finally:
        index.close()


def test_without_an_index_the_tools_say_so(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    box = ToolBox(StagedWorkspace.create(tmp_path / "ws", tmp_path / "run"))
    with pytest.raises(ToolError, match="no code index"):
        call_tool(box.all_tools(), ToolCall("search_code", {"query": "x"}))


TEXT = "x = 1\n# TODO(atoll): add a CSV export\ny = 2\n/* TODO(atoll): rename z */\n"


def _range(a: int, b: int, c: int = 0, d: int = 0) -> types.Range:
    return types.Range(types.Position(a, c), types.Position(b, d))


def test_code_action_tasks_for_todo_selection_and_diagnostic() -> None:
    [(title, task)] = delegate_tasks(TEXT, "m.py", _range(1, 1, 3, 3), [])
    assert title == "Delegate to AI crew: add a CSV export"
    assert task.startswith("add a CSV export") and "m.py:2" in task
    [(_, task)] = delegate_tasks(TEXT, "m.py", _range(3, 3), [])
    assert task.startswith("rename z\n")  # the comment's closing */ is not part of the task
    [(title, task)] = delegate_tasks(TEXT, "m.py", _range(0, 0, 0, 5), [])
    assert title == "Delegate to AI crew" and "x = 1" in task and "lines 1-1" in task
    diagnostic = types.Diagnostic(_range(2, 2), "undefined name 'q'")
    [(title, task)] = delegate_tasks(TEXT, "m.py", _range(2, 2), [diagnostic])
    assert "fix" in title and "m.py:3: undefined name 'q'" in task
    assert delegate_tasks(TEXT, "m.py", _range(0, 0), []) == []  # nothing to delegate
