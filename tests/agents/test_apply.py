"""``atoll run --apply``: the only writer of the user's files, and never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atoll.agents.apply import apply_diff, unsafe_component
from atoll.agents.staging import FileChange, WorkspaceDiff


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("a = 1\n")
    (root / "old.py").write_text("old\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.py").write_text("victim\n")
    os.symlink(tmp_path / "outside", root / "link")
    os.symlink(tmp_path / "outside" / "victim.py", root / "alias.py")
    return root


def diff(*changes: FileChange) -> WorkspaceDiff:
    return WorkspaceDiff(tuple(changes))


def test_plain_changes_apply(ws: Path) -> None:
    applied = apply_diff(
        diff(
            FileChange("pkg/a.py", "modified", "a = 1\n", "a = 2\n"),
            FileChange("pkg/new/b.py", "added", None, "b = 1\n"),
            FileChange("renamed.py", "renamed", "old\n", "old\n", old_path="old.py"),
        ),
        ws,
    )
    assert applied.files == ["pkg/a.py", "pkg/new/b.py", "renamed.py"]
    assert (ws / "pkg" / "a.py").read_text() == "a = 2\n"
    assert (ws / "pkg" / "new" / "b.py").read_text() == "b = 1\n"
    assert (ws / "renamed.py").read_text() == "old\n" and not (ws / "old.py").exists()


@pytest.mark.parametrize(
    "change",
    [
        FileChange("link/planted.py", "added", None, "pwned\n"),
        FileChange("link/victim.py", "modified", "victim\n", "pwned\n"),
        FileChange("alias.py", "modified", "victim\n", "pwned\n"),
        FileChange("link/victim.py", "deleted", "victim\n", None),
        FileChange("moved.py", "renamed", "victim\n", "victim\n", old_path="alias.py"),
    ],
    ids=["add-below", "modify-below", "modify-link", "delete-below", "rename-link"],
)
def test_nothing_is_written_through_a_symlink(ws: Path, tmp_path: Path, change: FileChange) -> None:
    applied = apply_diff(diff(change), ws)
    assert applied.files == [] and [p for p, _ in applied.refused] == [change.path]
    assert "symlink" in applied.refused[0][1]
    assert sorted(os.listdir(tmp_path / "outside")) == ["victim.py"]
    assert (tmp_path / "outside" / "victim.py").read_text() == "victim\n"


def test_a_changed_file_is_a_conflict(ws: Path) -> None:
    applied = apply_diff(diff(FileChange("pkg/a.py", "modified", "a = 0\n", "a = 2\n")), ws)
    assert applied.conflicts == ["pkg/a.py"] and (ws / "pkg" / "a.py").read_text() == "a = 1\n"


@pytest.mark.parametrize("rel", ["../x.py", "/etc/passwd", "a/../../x.py", ""])
def test_only_plain_relative_paths(ws: Path, rel: str) -> None:
    assert unsafe_component(ws, rel) is not None
