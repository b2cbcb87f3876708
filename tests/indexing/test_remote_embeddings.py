"""Embeddings from an OpenAI-compatible server: a real ``python -m llama_cpp.server
--embedding true`` on the demo GGUF (the stand-in for vLLM or TEI on the GPU box).

The demo model has no pooling, so that server answers one vector per token: the
client averages them. Its answers are slow (megabytes of JSON), so the workspace is tiny.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atoll.config import AtollConfig, load_config
from atoll.doctor import DoctorContext, Status
from atoll.doctor.embeddings import embedding_server
from atoll.indexing import WorkspaceIndex
from atoll.indexing.embed import pipelined
from tests.e2e.conftest import launch_llama_server, stop_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedding_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("embedding-server") / "server.log"
    process, base = launch_llama_server(log, "--embedding", "true")
    try:
        yield base
    finally:
        stop_process(process)


def tiny_workspace(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "money.py").write_text("def cents(x):\n    return round(x * 100)\n")
    (root / "pkg" / "stock.py").write_text("class Shelf:\n    def count(self):\n        return 3\n")
    return root


def remote(root: Path, url: str) -> AtollConfig:
    sets = {"indexing.embeddings": "1", "indexing.embed_endpoint.base_url": url}
    return load_config(root, cli=sets).config


def test_index_and_search_with_vectors_from_the_server(embedding_url: str, tmp_path: Path) -> None:
    ws = tiny_workspace(tmp_path / "ws")
    cfg = remote(ws, embedding_url)
    index = WorkspaceIndex.open(ws, cfg)
    try:
        stats = index.index_all()
        assert not stats.embed_error and stats.embedded == stats.chunks > 0
        hits = index.hybrid().search("round money to cents", 2, mode="vector")
        assert hits and {h.path.name for h in hits} <= {"money.py", "stock.py"}
        assert index.index_all().embedded == 0  # nothing embedded twice
    finally:
        index.close()
    manifest = json.loads((ws / ".atoll" / "vectors" / "manifest.json").read_text())
    assert (manifest["model"], manifest["dim"]) == ("openai:default", 576)
    loaded = load_config(ws, cli={"indexing.embed_endpoint.base_url": embedding_url})
    [server, vectors] = embedding_server(DoctorContext(ws, loaded, timeout_s=30))
    assert (server.status, vectors.status) == (Status.OK, Status.OK)
    assert "576-d" in server.detail
    # The collection was built with another size than the server makes now: said, with a fix.
    manifest["dim"] = 384
    (ws / ".atoll" / "vectors" / "manifest.json").write_text(json.dumps(manifest))
    [_, vectors] = embedding_server(DoctorContext(ws, loaded, timeout_s=30))
    assert vectors.status is Status.FAIL and "atoll index" in vectors.fix


def test_a_server_that_is_down_stops_embedding_not_indexing(tmp_path: Path) -> None:
    ws = tiny_workspace(tmp_path / "ws")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    env = {**os.environ, "ATOLL_INDEXING_EMBED_ENDPOINT_BASE_URL": f"http://127.0.0.1:{port}/v1",
           "COLUMNS": "250"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "atoll.cli", "index", str(ws)], capture_output=True, text=True,
        env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "embedding stopped" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    index = WorkspaceIndex.open(ws, load_config(ws, cli={"indexing.embeddings": "0"}).config)
    assert index.find_symbols("Shelf") and index.store.pending_count() == index.stats()["chunks"]
    index.close()


class SlowEmbedder:
    """Scripted: records how many calls run at once."""

    name, batch, concurrency, loaded, dim = "slow", 2, 3, True, 1

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        return [[float(len(t))] for t in texts]

    def close(self) -> None: ...


def test_batches_run_concurrently_in_order_with_back_pressure() -> None:
    embedder = SlowEmbedder()
    read: list[int] = []

    def batches() -> Iterator[list[str]]:
        for i in range(12):
            read.append(i)
            yield ["x" * i]

    seen = []
    for n, (batch, vectors) in enumerate(pipelined(embedder, batches(), lambda b: b)):
        assert len(read) <= n + embedder.concurrency  # never reads far ahead
        seen.append((batch[0], vectors[0][0]))
    assert seen == [("x" * i, float(i)) for i in range(12)]
    assert embedder.most == embedder.concurrency
