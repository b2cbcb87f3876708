"""Many processes, one index: real processes, real locks, nothing lost.

The writer holds ``.atoll/writer.lock``; other processes read the same index and never
repair, delete or take over anything another process has open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from atoll.config import AtollConfig, load_config
from atoll.indexing import WorkspaceIndex
from atoll.indexing.embed import LocalEmbedder
from atoll.indexing.vectors import EdgeVectorStore, write_manifest

ENV = {**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0", "COLUMNS": "250"}
HOLD = """
import sys
from pathlib import Path
from atoll.config import load_config
from atoll.indexing import WorkspaceIndex
ws = Path(sys.argv[1])
index = WorkspaceIndex.open(ws, load_config(ws, cli={"indexing.embeddings": "0"}).config,
                            command="serve")
print("writer" if index.writable else "reader", flush=True)
sys.stdin.readline()
index.close()
"""


def config(root: Path, **sets: str) -> AtollConfig:
    return load_config(root, cli={"indexing.embeddings": "0", **sets}).config


def atoll(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atoll.cli", *args], capture_output=True, text=True, env=ENV,
        cwd=cwd, timeout=300,
    )  # fmt: skip


def hold(script: str, *args: str) -> subprocess.Popen[str]:
    """A process running ``script`` until its stdin gets a line; waits for its first line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=ENV,
    )  # fmt: skip
    assert proc.stdout is not None
    proc.first_line = proc.stdout.readline().strip()  # type: ignore[attr-defined]
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == 0


def test_commands_while_another_process_writes_the_index(sample_workspace: Path) -> None:
    ws = sample_workspace
    assert atoll("index", str(ws)).returncode == 0
    server = hold(HOLD, str(ws))
    assert server.first_line == "writer"  # type: ignore[attr-defined]
    try:
        other = atoll("index", str(ws), "--json")
        assert other.returncode == 0, other.stderr
        report = json.loads(other.stdout)
        assert report["indexed_here"] is False and report["writer"]["pid"] == server.pid
        assert report["writer"]["command"] == "serve" and report["files"] == 8
        human = atoll("index", str(ws))
        assert f"pid {server.pid} (atoll serve" in human.stdout
        found = atoll("symbols", "Inventory", "-w", str(ws), "--json")
        assert found.returncode == 0 and json.loads(found.stdout)
        hits = atoll("search", "stock value", "-w", str(ws), "--json")
        assert hits.returncode == 0 and json.loads(hits.stdout)
    finally:
        release(server)
    assert atoll("index", str(ws)).stdout.strip().startswith("indexed")
    assert not [p.name for p in (ws / ".atoll").iterdir() if "corrupt" in p.name]


def test_a_second_run_waits_for_the_first(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for i in range(300):
        pkg = root / f"pkg{i % 10}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"mod{i}.py").write_text(
            "\n".join(f"def func_{i}_{j}(x):\n    return x + {j}\n" for j in range(40))
        )
    command = [sys.executable, "-m", "atoll.cli", "index", str(root), "--json", "--wait", "300"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV) for _ in (1, 2)]
    reports = [json.loads(run.communicate(timeout=300)[0]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    # One parsed everything; the other waited for it and found nothing left to do.
    assert sorted(r["indexed"] for r in reports) == [0, 300]
    idx = WorkspaceIndex.open(root, config(root), write=False)
    assert idx.stats()["symbols"] == 300 * 40
    idx.close()


def test_a_vector_store_open_elsewhere_is_busy_not_broken(sample_workspace: Path) -> None:
    """The data-loss bug: a reader took "locked by another process" for corruption and
    deleted the shard. A process holding the shard (even one that ignores the writer
    lock, like an older atoll) keeps every vector."""
    ws = sample_workspace
    cfg = load_config(ws, cli={"indexing.embeddings": "1"}).config
    idx = WorkspaceIndex.open(ws, config(ws))
    idx.index_all()
    idx.store.mark_embedded(int(r[0]) for r in idx.store.query("SELECT cid FROM chunks"))
    idx.close()
    shard = ws / ".atoll" / "vectors" / "shard"
    store = EdgeVectorStore(shard, 8)
    store.upsert([1, 2, 3], [[1.0] + [0.0] * 7] * 3, [{"language": "python"}] * 3)
    store.close()
    model = LocalEmbedder(cfg).name
    manifest = {"model": model, "dim": 8, "store": "edge", "url": "", "collection": ""}
    write_manifest(shard.parent, manifest)
    holder = hold(
        textwrap.dedent(f"""
        from pathlib import Path
        from atoll.indexing.vectors import EdgeVectorStore
        store = EdgeVectorStore(Path({str(shard)!r}), 8)
        print(store.count(), flush=True)
        input()
        store.close()
        """)
    )
    assert holder.first_line == "3"  # type: ignore[attr-defined]
    try:
        for write in (False, True):
            idx = WorkspaceIndex.open(ws, cfg, write=write)
            assert idx.search("stock value")  # lexical answers
            assert idx.vectors.vectors(create=False) is None
            assert "in use" in idx.vectors.error
            if write:
                assert idx.index_all().embedded == 0
            idx.close()
        assert sorted(p.name for p in shard.parent.iterdir()) == ["manifest.json", "shard"]
    finally:
        release(holder)
    store = EdgeVectorStore(shard, 8)
    assert store.count() == 3
    store.close()


def test_a_workspace_folder_named_like_a_stdlib_module(tmp_path: Path) -> None:
    """A partial `multiprocessing/` in the workspace broke the worker processes."""
    ws = tmp_path / "ws"
    (ws / "multiprocessing").mkdir(parents=True)
    (ws / "multiprocessing" / "__init__.py").write_text("raise ImportError('a partial copy')\n")
    for i in range(80):
        (ws / f"m{i}.py").write_text(f"def f_{i}():\n    return {i}\n")
    scripts = [str(Path(sys.executable).parent / "atoll")], [sys.executable, "-m", "atoll.cli"]
    for n, command in enumerate(scripts):
        sets = ["--set", "indexing.workers=2", "--set", f"indexing.index_dir={tmp_path}/idx{n}"]
        done = subprocess.run(
            [*command, "index", "--json", *sets],
            cwd=ws, capture_output=True, text=True, env=ENV, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "parsing process failed" not in done.stderr
        report = json.loads(done.stdout)
        assert (report["files"], report["indexed"], report["symbols"]) == (81, 81, 80)
