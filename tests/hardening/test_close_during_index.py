"""Closing the index while a run writes to it (the server shutting down mid-index).

Before the fix this crashed the process inside SQLite about one time in three.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from atoll.config import load_config
from atoll.indexing import IndexClosedError, WorkspaceIndex


def make_tree(root: Path, files: int) -> None:
    for i in range(files):
        body = "\n".join(f"def func_{i}_{j}(x):\n    return x * {j}\n" for j in range(30))
        (root / f"mod_{i}.py").write_text(body)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_close_during_index_all_stops_the_run_cleanly(tmp_path: Path, delay: float) -> None:
    make_tree(tmp_path, 120)
    config = load_config(tmp_path, env={"ATOLL_INDEXING_EMBEDDINGS": "0"}).config
    index = WorkspaceIndex.open(tmp_path, config)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(index.index_all())
        except IndexClosedError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(delay)
    # Readers on other threads during the close get a clear error, never a crash.
    readers = [threading.Thread(target=lambda: _read_until_closed(index)) for _ in range(2)]
    for reader in readers:
        reader.start()
    index.close()
    worker.join(60)
    for reader in readers:
        reader.join(60)
    assert not worker.is_alive()
    assert len(outcome) == 1
    # The index reopens and a second run completes it.
    again = WorkspaceIndex.open(tmp_path, config)
    try:
        stats = again.index_all()
        assert again.stats()["files"] == 120 == stats.files
        assert again.find_symbols("func_119_29", limit=1)
    finally:
        again.close()


def _read_until_closed(index: WorkspaceIndex) -> None:
    for _ in range(200):
        try:
            index.find_symbols("func", limit=5)
            index.stats()
        except IndexClosedError:
            return
        time.sleep(0.001)
