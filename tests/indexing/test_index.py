"""The index as a library: symbols, search, incremental updates, ignores, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from atoll.config import AtollConfig, load_config
from atoll.indexing import WorkspaceIndex, aside
from atoll.indexing.model import SearchHit


def config(root: Path, **sets: str) -> AtollConfig:
    return load_config(root, cli={"indexing.embeddings": "0", **sets}).config


def test_sample_workspace_symbols_search_and_outline(sample_workspace: Path) -> None:
    idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
    assert idx.find_symbols("anything") == [] and idx.search("x") == [] and idx.outline() == ""
    stats = idx.index_all()
    assert stats.indexed == stats.files == 8 and stats.failed == 0
    [model] = idx.definitions("StockModel")
    assert (model.language, model.kind, model.doc) == (
        "rust",
        23,
        "The stock model shown in the QML view.",
    )
    [add] = idx.definitions("Inventory.add")
    assert add.signature == "def add(self, item: Item) -> None" and add.container == "Inventory"
    assert idx.find_symbols("fmtcents")[0].name == "format_cents"
    hits = idx.search("restock units", 3, language="rust")
    assert hits and all(h.language == "rust" for h in hits)
    assert all(
        h.path.parent.name == "inventory" for h in idx.search("value", path_prefix="inventory")
    )
    assert "inventory/models.py:" in idx.outline(400)
    buffer = idx.symbols_in_file(
        sample_workspace / "inventory/models.py", "class Only:\n    pass\n"
    )
    assert [s.name for s in buffer] == ["Only"]
    idx.close()


def test_incremental_changes_deletes_renames_and_ignores(sample_workspace: Path) -> None:
    (sample_workspace / ".gitignore").write_text("ignored/\n")
    (sample_workspace / ".atollignore").write_text("*.skip.py\n")
    (sample_workspace / "ignored").mkdir()
    (sample_workspace / "ignored/a.py").write_text("def hidden_a(): pass\n")
    (sample_workspace / "b.skip.py").write_text("def hidden_b(): pass\n")
    (sample_workspace / "blob.py").write_bytes(b"def x():\0 pass\n")
    (sample_workspace / "latin.py").write_bytes("def caf\xe9(): pass\n".encode("latin-1"))
    (sample_workspace / "broken.py").write_text("def (:\n  ))\n")
    idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
    idx.index_all()
    assert not idx.find_symbols("hidden")
    assert idx.search("caf")  # decoded with replacement, still searchable
    again = idx.index_all()
    assert again.indexed == 0 and again.skipped == 1  # the binary file is looked at again
    (sample_workspace / "inventory/report.py").rename(sample_workspace / "inventory/reports.py")
    stats = idx.index_all()
    assert stats.removed == 1 and stats.indexed == 1
    [summary] = idx.definitions("summary")
    assert summary.path.name == "reports.py"
    idx.remove_file(sample_workspace / "inventory")
    assert not idx.definitions("summary") and not idx.search("inventory", path_prefix="inventory")
    idx.close()


def test_corrupt_database_is_set_aside(sample_workspace: Path) -> None:
    folder = sample_workspace / ".atoll"
    folder.mkdir()
    (folder / "index.db").write_bytes(b"\x00garbage" * 1000)
    idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
    assert idx.store.recovered_from is not None and idx.store.recovered_from.exists()
    assert idx.index_all().symbols > 20
    idx.close()


def test_damaged_twice_in_one_second_keeps_both(
    sample_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second set-aside within the same second neither overwrites nor fails on the first."""
    monkeypatch.setattr(aside, "time", SimpleNamespace(strftime=lambda _fmt: "20261202000000"))
    folder = sample_workspace / ".atoll"
    folder.mkdir()
    kept = []
    for n in range(2):
        (folder / "index.db").write_bytes(f"garbage {n}".encode() * 1000)
        idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
        assert idx.store.recovered_from is not None
        kept.append(idx.store.recovered_from)
        idx.close()
    assert kept[0] != kept[1]
    assert [p.read_bytes()[:9] for p in kept] == [b"garbage 0", b"garbage 1"]
    shard = folder / "vectors" / "shard"
    for n in range(2):
        shard.mkdir(parents=True)
        (shard / "data").write_text(str(n))
        aside.set_aside(shard, "replaced")
    assert sorted(p.read_text() for p in folder.glob("vectors/shard.replaced-*/data")) == ["0", "1"]


def test_killed_during_indexing_leaves_an_index_that_opens(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for i in range(400):
        pkg = root / f"pkg{i % 20}"
        pkg.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"def func_{i}_{j}(x):\n    return x + {j}\n" for j in range(60))
        (pkg / f"mod{i}.py").write_text(body)
    env = {**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0", "ATOLL_INDEXING_WORKERS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "atoll.cli", "index", str(root), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = root / ".atoll" / "index.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if db.exists() and db.stat().st_size + _wal(db) > 200_000:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    idx = WorkspaceIndex.open(root, config(root))
    partial = idx.stats()["files"]
    assert partial < 400, "the run finished before it was killed; make the tree larger"
    assert idx.find_symbols("func_0_1") is not None
    stats = idx.index_all()
    assert stats.files == 400 and idx.stats()["files"] == 400
    assert stats.indexed <= 400 - partial + 1
    assert idx.stats()["symbols"] == 400 * 60
    idx.close()


def _wal(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.slow
def test_embeddings_hybrid_search_and_model_change(sample_workspace: Path) -> None:
    cfg = load_config(sample_workspace, cli={"indexing.embeddings": "1"}).config
    idx = WorkspaceIndex.open(sample_workspace, cfg)
    first = idx.index_all()
    assert first.embedded == first.chunks > 0
    hits = idx.search("how much is the stock worth in money", 3, language="python")
    assert hits and hits[0].path.name == "models.py"
    assert idx.index_all().embedded == 0  # unchanged chunks are never re-embedded
    models = sample_workspace / "inventory/models.py"
    models.write_text(models.read_text() + "\n\ndef extra() -> int:\n    return 1\n")
    assert 1 <= idx.index_all().embedded < first.chunks  # only the changed chunks
    idx.close()
    # Another model than the vectors were built with: said, old vectors set aside, rebuilt.
    manifest = sample_workspace / ".atoll/vectors/manifest.json"
    built = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**built, "model": "/models/another-model"}))
    idx = WorkspaceIndex.open(sample_workspace, cfg)
    assert idx.index_all().embedded == idx.stats()["chunks"]
    assert idx.search("stock worth in money", 3, language="python")
    idx.close()
    assert len(list(manifest.parent.glob("shard.replaced-*"))) == 1
    # The same name but another size (a model swapped behind it): found once embedding.
    manifest.write_text(json.dumps({**built, "dim": 768}))
    models.write_text(models.read_text() + "\n\ndef more() -> int:\n    return 2\n")
    idx = WorkspaceIndex.open(sample_workspace, cfg)
    assert idx.index_all().embedded == idx.stats()["chunks"]
    assert json.loads(manifest.read_text())["dim"] == 384
    idx.close()


def test_index_of_another_format_is_set_aside_and_rebuilt(sample_workspace: Path) -> None:
    import sqlite3

    idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
    idx.index_all()
    idx.close()
    db = sample_workspace / ".atoll" / "index.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    idx = WorkspaceIndex.open(sample_workspace, config(sample_workspace))
    # Not damage (no warning), but never deleted either: another atoll version may own it.
    assert idx.store.recovered_from is None and not list(db.parent.glob("*.corrupt-*"))
    assert len(list(db.parent.glob("index.db.old-format-*"))) == 1
    assert idx.stats()["files"] == 0 and idx.index_all().symbols > 20
    idx.close()


def test_worker_processes_count_references_like_one_process(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    for i in range(90):  # above the size that uses worker processes
        (root / f"m{i}.py").write_text(
            f"from m{(i + 1) % 90} import helper_{(i + 1) % 90}\n\n"
            f"def helper_{i}(value):\n    return helper_{(i + 1) % 90}(value) + {i}\n"
        )
    totals = []
    for workers in ("1", "2"):
        cfg = config(
            root, **{"indexing.workers": workers, "indexing.index_dir": f"../idx{workers}"}
        )
        idx = WorkspaceIndex.open(root, cfg)
        idx.index_all()
        totals.append(sorted(idx.store.query("SELECT name, n FROM ref_counts")))
        [helper] = idx.definitions("helper_5")
        assert helper.references == 3  # its definition, the import and the call
        idx.close()
    assert totals[0] == totals[1] and totals[0]


def _walk(tmp_path: Path, zebra_lines: tuple[int, int]) -> tuple[list[str], list[SearchHit]]:
    """A 62-line function cut into pieces of 18 lines at 128 tokens; "zebra crossing" on
    two of its lines. Returns the file's lines and the lexical hits for those words."""
    lines = ["def long_walk(step_0):"]
    lines += [f"    step_{i} = step_{i - 1} + {i}" for i in range(1, 60)]
    lines += ["    return step_59", "", "", "def zebra_pen():", "    return 'zebra'", ""]
    for at in zebra_lines:
        lines[at] = "    zebra = crossing(step_1)"
    (tmp_path / "walk.py").write_text("\n".join(lines))
    idx = WorkspaceIndex.open(tmp_path, config(tmp_path, **{"indexing.chunk_tokens": "128"}))
    idx.index_all()
    pieces = idx.store.query("SELECT sl, el FROM chunks WHERE symbol = 'long_walk' ORDER BY sl")
    assert [tuple(p) for p in pieces] == [(0, 18), (19, 36), (37, 54), (55, 60)]
    hits = idx.search("zebra crossing", 10, mode="lexical")
    idx.close()
    return lines, [h for h in hits if h.symbol == "long_walk"]


def test_neighbouring_pieces_of_one_definition_are_one_hit(tmp_path: Path) -> None:
    lines, [walk] = _walk(tmp_path, (6, 25))  # in the first two pieces: one hit, both
    assert (walk.start_line, walk.end_line) == (0, 36)
    assert walk.text == "\n".join(lines[0:37])  # reads like the file, line for line
    _, [walk] = _walk(tmp_path, (6, 51))  # a piece between them: the best one alone
    assert (walk.start_line, walk.end_line) in {(0, 18), (37, 54)}
