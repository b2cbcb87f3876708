"""The staged workspace: every path stays inside it, the user's files are never written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.agents import PathEscapeError, StagedWorkspace, ToolError
from atoll.agents.models import ToolCall
from atoll.agents.tools import ToolBox, call_tool


@pytest.fixture
def staged(tmp_path: Path) -> StagedWorkspace:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "notes.txt").write_text("disk text\n")
    (tmp_path / "secret.txt").write_text("do not touch\n")
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    os.symlink(tmp_path, root / "outside")
    os.symlink("pkg/a.py", root / "alias.py")
    return StagedWorkspace.create(root, tmp_path / "run", {root / "notes.txt": "buffer text\n"})


def test_unsaved_buffers_win_over_disk(staged: StagedWorkspace) -> None:
    assert staged.read_text("notes.txt") == "buffer text\n"
    assert staged.read_text("pkg/a.py") == "x = 1\n"


@pytest.mark.parametrize(
    "path",
    ["../secret.txt", "pkg/../../secret.txt", "/etc/passwd", "leak.txt", "outside/secret.txt",
     "outside/ws/notes.txt", "C:/windows", "..", "a\x00b"],
)  # fmt: skip
def test_escaping_paths_are_refused_with_a_readable_error(
    staged: StagedWorkspace, path: str
) -> None:
    with pytest.raises(PathEscapeError) as info:
        staged.resolve(path)
    assert "refused path" in str(info.value)


def test_symlink_inside_the_workspace_is_fine(staged: StagedWorkspace) -> None:
    assert staged.read_text("alias.py") == "x = 1\n"
    assert staged.read_text("pkg/./../pkg/a.py") == "x = 1\n"


def test_writes_through_an_escaping_symlink_never_reach_the_target(
    staged: StagedWorkspace, tmp_path: Path
) -> None:
    box = ToolBox(staged)
    tools = box.all_tools()
    for call in (
        ToolCall("write_file", {"path": "leak.txt", "content": "pwned"}),
        ToolCall("write_file", {"path": "outside/new.txt", "content": "pwned"}),
        ToolCall("edit_file", {"path": "../secret.txt", "search": "do", "replace": "x"}),
        ToolCall("rename_file", {"path": "pkg/a.py", "new_path": "../moved.py"}),
        ToolCall("delete_file", {"path": "outside/secret.txt"}),
    ):
        with pytest.raises(ToolError):
            call_tool(tools, call)
    assert (tmp_path / "secret.txt").read_text() == "do not touch\n"
    assert not (tmp_path / "new.txt").exists() and not (tmp_path / "moved.py").exists()


def test_the_users_files_are_untouched_and_the_diff_has_every_kind(
    staged: StagedWorkspace, tmp_path: Path
) -> None:
    box = ToolBox(staged)
    tools = box.all_tools()
    call_tool(
        tools, ToolCall("edit_file", {"path": "pkg/a.py", "search": "x = 1", "replace": "x = 2"})
    )
    call_tool(tools, ToolCall("write_file", {"path": "pkg/new/b.py", "content": "y = 1\n"}))
    call_tool(tools, ToolCall("rename_file", {"path": "notes.txt", "new_path": "docs/notes.txt"}))
    call_tool(tools, ToolCall("delete_file", {"path": "alias.py"}))
    diff = staged.diff()
    kinds = {c.path: c.kind for c in diff.changes}
    assert kinds == {"pkg/a.py": "modified", "pkg/new/b.py": "added", "docs/notes.txt": "renamed"}
    assert "-x = 1\n+x = 2\n" in diff.unified()
    root = tmp_path / "ws"
    assert (root / "pkg" / "a.py").read_text() == "x = 1\n"
    assert (root / "notes.txt").read_text() == "disk text\n"
    assert not (root / "pkg" / "new").exists()
    assert box.touched == {"pkg/a.py", "pkg/new/b.py", "docs/notes.txt", "alias.py"}


_SEGMENT = st.sampled_from(["..", ".", "pkg", "a.py", "outside", "leak.txt", "alias.py", "", "x"])


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(parts=st.lists(_SEGMENT, min_size=1, max_size=6), absolute=st.booleans())
def test_any_accepted_path_is_inside_the_work_folder(
    staged: StagedWorkspace, parts: list[str], absolute: bool
) -> None:
    path = ("/" if absolute else "") + "/".join(parts)
    work = staged.work.resolve()
    try:
        real = staged.resolve(path)
    except ToolError:
        return
    assert real == work or work in real.parents


def test_the_unified_diff_applies_with_git(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.txt").write_text("one\ntwo")  # no final newline
    (root / "gone.txt").write_text("bye\n")
    staged = StagedWorkspace.create(root, tmp_path / "run")
    staged.write_text("a.txt", "one\nTWO\nthree")
    staged.write_text("new/b.txt", "b\n")
    staged.delete("gone.txt")
    patch = tmp_path / "result.diff"
    patch.write_text(staged.diff().unified())
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "apply", str(patch)], check=True)
    assert (root / "a.txt").read_text() == "one\nTWO\nthree"
    assert (root / "new" / "b.txt").read_text() == "b\n"
    assert not (root / "gone.txt").exists()
