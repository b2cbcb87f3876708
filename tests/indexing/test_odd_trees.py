"""Trees that are not well-behaved: odd names, special files, files that vanish or refuse.

Each odd entry is skipped (or indexed) with one log line; the run never fails.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from atoll.config import AtollConfig, load_config
from atoll.indexing import WorkspaceIndex

LATIN1_NAME = os.fsdecode(b"caf\xe9.py")  # not UTF-8: a surrogate escape in Python


def config(root: Path, **sets: str) -> AtollConfig:
    return load_config(root, cli={"indexing.embeddings": "0", **sets}).config


def test_odd_entries_are_skipped_with_one_line_each(
    sample_workspace: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws = sample_workspace
    os.mkfifo(ws / "pipe.py")  # reading it would block the run forever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(ws / "sock.py"))
    (ws / "dangling.py").symlink_to(ws / "nowhere.py")
    outside = tmp_path / "secret.py"
    outside.write_text("def secret_function():\n    pass\n")
    (ws / "leak.py").symlink_to(outside)  # a repository must not index the user's files
    (ws / "inside.py").symlink_to(ws / "inventory" / "models.py")
    (ws / LATIN1_NAME).write_text("def odd_named_function():\n    return 1\n")
    caplog.set_level(logging.INFO, logger="atoll.indexing")
    try:
        idx = WorkspaceIndex.open(ws, config(ws))
        stats = idx.index_all()
    finally:
        server.close()
    skipped = {note.split(":")[0] for note in stats.notes}
    assert {"pipe.py", "sock.py", "dangling.py", "leak.py"} <= skipped
    for name in ("pipe.py", "sock.py", "dangling.py", "leak.py"):
        lines = [r for r in caplog.records if r.getMessage().startswith(f"skipped {name}:")]
        assert len(lines) == 1, (name, [r.getMessage() for r in caplog.records])
    assert not idx.find_symbols("secret_function")
    # The odd name is indexed as itself, found again, and shown readably.
    [odd] = idx.definitions("odd_named_function")
    assert odd.path == ws / LATIN1_NAME and odd.path.exists()
    assert idx.index_all().indexed == 0  # stored names map back: nothing looks new
    assert "caf\\xe9.py:" in idx.outline(4000)
    assert idx.definitions("Inventory.add")  # the rest of the tree is indexed
    idx.remove_file(ws / LATIN1_NAME)
    assert not idx.definitions("odd_named_function")
    idx.close()


def test_unreadable_and_vanishing_files_never_fail_a_run(
    sample_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = sample_workspace
    for i in range(5):
        (ws / f"extra{i}.py").write_text(f"def extra_{i}():\n    pass\n")
    refused = str(ws / "extra1.py")
    real_open = os.open

    def deny(path: object, *args: object, **kwargs: object) -> int:
        # Root reads any file, so a permission error is the only thing simulated here.
        if str(path) == refused:
            raise PermissionError(13, "Permission denied", refused)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", deny)
    idx = WorkspaceIndex.open(ws, config(ws, **{"indexing.workers": "1"}))
    seen: list[str] = []

    def progress(done: int, total: int, current: str = "", phase: str = "parsing") -> None:
        seen.append(current)
        if current == "extra2.py":  # a real deletion between the walk and the read
            (ws / "extra3.py").unlink()

    stats = idx.index_all(progress)
    notes = "\n".join(stats.notes)
    assert "extra1.py: unreadable: Permission denied" in notes
    assert "extra3.py: vanished before it was read" in notes
    assert idx.find_symbols("extra_4") and not idx.find_symbols("extra_3")
    assert "extra3.py" not in {s.path.name for s in idx.find_symbols("extra", 50)}
    idx.close()


def test_index_folder_ignores_itself_and_readers_create_nothing(sample_workspace: Path) -> None:
    ws = sample_workspace
    reader = WorkspaceIndex.open(ws, config(ws), write=False)
    assert reader.find_symbols("Inventory") == [] and reader.search("inventory") == []
    assert reader.store.unavailable == "not indexed yet"
    reader.close()
    assert not (ws / ".atoll").exists()
    commands = (["search", "stock", "-w", str(ws)], ["symbols", "Inv", "-w", str(ws)],
                ["outline", str(ws)])  # fmt: skip
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "atoll.cli", *command],
            capture_output=True,
            text=True,
            env={**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0"},
        )
        if command[0] == "outline":
            assert done.returncode == 0, done.stderr
        else:  # nothing found, and why
            assert done.returncode == 1, done.stderr
            assert "no index yet" in " ".join(done.stderr.split())
        assert not (ws / ".atoll").exists(), command
    assert "Inventory" in done.stdout  # outline works from a temporary index
    WorkspaceIndex.open(ws, config(ws)).close()
    assert (ws / ".atoll" / ".gitignore").read_text().splitlines()[-1] == "*"
