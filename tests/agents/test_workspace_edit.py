"""The crew's diff as LSP edits: line edits reproduce the new text; conflicts are left out."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from atoll.agents import FileChange, WorkspaceDiff
from atoll.server.crew.edit import plan_edit
from atoll.server.lsp.edits import apply_line_edits, line_edits

_LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "d", "é\n", "x\r\n"]), max_size=8)


@given(old=_LINES, new=_LINES)
def test_line_edits_turn_old_into_new(old: list[str], new: list[str]) -> None:
    before, after = "".join(old), "".join(new)
    assert apply_line_edits(before, line_edits(before, after, len)) == after


def test_plan_edit_leaves_out_files_changed_meanwhile(tmp_path: Path) -> None:
    diff = WorkspaceDiff(
        (
            FileChange("a.py", "modified", "old\n", "new\n"),
            FileChange("b.py", "modified", "same\n", "changed\n"),
            FileChange("c.py", "added", None, "c\n"),
            FileChange("d.py", "added", None, "d\n"),
            FileChange("e.py", "deleted", "e\n", None),
        )
    )
    now = {"a.py": "edited by the user\n", "b.py": "same\n", "d.py": "appeared\n", "e.py": "e\n"}

    def current(path: Path) -> str | None:
        return now.get(path.name)

    b_uri = (tmp_path / "b.py").as_uri()
    planned = plan_edit(diff, tmp_path, current, {b_uri: 7}, resource_operations=True)
    assert planned.conflicts == ["a.py", "d.py"]
    assert planned.files == ["b.py", "c.py", "e.py"]
    ops = planned.edit.document_changes or []
    [b_edit] = [
        o for o in ops if isinstance(o, types.TextDocumentEdit) and o.text_document.uri == b_uri
    ]
    assert b_edit.text_document.version == 7
    assert any(isinstance(o, types.CreateFile) for o in ops)
    assert any(isinstance(o, types.DeleteFile) for o in ops)
    without = plan_edit(diff, tmp_path, current, {}, resource_operations=False)
    assert without.unsupported == ["c.py", "e.py"] and without.files == ["b.py"]
