"""The index at run time, for the indexing suite: embedding throughput on this CPU and
from an embedding server, and the language server's memory once it sits idle.

- ``local_embedding``: chunks/s of the configured (or demo) sentence-transformers model
  with atoll's default thread count.
- ``remote_embedding``: chunks/s through ``indexing.embed_endpoint`` against a real
  ``python -m llama_cpp.server --embedding true`` on the demo GGUF, started here (a
  stand-in for vLLM on the GPU box; the demo model answers a vector per token, so the
  number shows the plumbing, not a GPU's speed). ``--endpoint`` is not used: it names a
  chat server.
- ``idle_rss``: ``atoll serve`` on a fully indexed workspace, with embeddings on and
  off: with nothing to embed, neither loads torch, so the two should be alike.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from atoll.bench.lspdriver import LspProcess

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "workspace"


def _chunk_texts(folder: Path, sample: int) -> list[list[str]]:
    """What indexing embeds of the first ``sample`` chunks: each chunk's views."""
    from atoll.indexing.store import SymbolStore
    from atoll.indexing.vectorside import chunk_views

    store = SymbolStore(folder / "index.db", writable=False)
    rows = store.query("SELECT context, text FROM chunks_fts ORDER BY rowid LIMIT ?", (sample,))
    store.close()
    return [chunk_views(str(context), str(text)) for context, text in rows]


def local_embedding(folder: Path, sample: int) -> dict[str, Any]:
    from atoll.config import load_config
    from atoll.indexing.embed import LocalEmbedder

    chunks = _chunk_texts(folder, sample)
    texts = [view for views in chunks for view in views]
    embedder = LocalEmbedder(load_config(None).config)
    t = time.perf_counter()
    embedder.embed(texts[:8])
    load = time.perf_counter() - t
    t = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - t
    return {
        "model": embedder.resolved.path.name,
        "threads": embedder.threads,
        "chunks": len(chunks),
        "views": len(texts),
        "chunks_per_s": round(len(chunks) / seconds, 1),
        "load_and_first_s": round(load, 2),
    }


def _embedding_server(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    from atoll.config import AtollConfig
    from atoll.config.models import resolve_gguf

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    gguf = str(resolve_gguf(AtollConfig()).path)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1",
             "--port", str(port), "--embedding", "true"],
            stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            with urllib.request.urlopen(base + "/models", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"the embedding server did not start; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # busy writing a large answer: it need not finish
        process.kill()
        process.wait()


def remote_embedding(folder: Path, sample: int, scratch: Path) -> dict[str, Any]:
    from atoll.config import load_config
    from atoll.indexing.embed import pipelined
    from atoll.indexing.embed_remote import RemoteEmbedder

    # Short texts: this server returns every token's vector (megabytes per chunk).
    texts = [views[0][:400] for views in _chunk_texts(folder, sample)]
    process, base = _embedding_server(scratch / "embedding-server.log")
    try:
        # Small batches: every answer holds a vector per token of every text.
        sets = {"indexing.embed_endpoint.base_url": base, "indexing.embed_batch": "4"}
        config = load_config(None, cli=sets).config
        embedder = RemoteEmbedder(config)
        dim = embedder.dim
        batches = [texts[i : i + embedder.batch] for i in range(0, len(texts), embedder.batch)]
        t = time.perf_counter()
        done = sum(len(b) for b, _ in pipelined(embedder, batches, lambda b: b))
        seconds = time.perf_counter() - t
        embedder.close()
    finally:
        _stop(process)
    return {
        "server": "llama_cpp.server --embedding true (demo GGUF, no pooling)",
        "dim": dim,
        "chunks": done,
        "chars_per_chunk": 400,
        "concurrency": config.indexing.embed_concurrency,
        "chunks_per_s": round(done / seconds, 1),
    }


async def _serve_rss(root: Path, embeddings: bool) -> dict[str, Any]:
    env = {
        "ATOLL_INDEXING_EMBEDDINGS": "1" if embeddings else "0",
        "ATOLL_COMPLETION_ENABLED": "0",
        "ATOLL_HOVER_EXPLAIN": "0",
    }
    lsp = await LspProcess.start(env=env)
    try:
        started = time.perf_counter()
        await lsp.initialize(root, {})
        first = await lsp.request("workspace/symbol", {"query": "Inv"})
        first_s = time.perf_counter() - started
        for _ in range(600):
            state = await lsp.request(
                "workspace/executeCommand", {"command": "atoll.status", "arguments": []}
            )
            if isinstance(state, dict) and state.get("index", {}).get("state") == "ready":
                break
            await asyncio.sleep(0.1)
        ready_s = time.perf_counter() - started
        await asyncio.sleep(3)  # idle
        return {
            "first_workspace_symbol_results": len(first or []),
            "first_workspace_symbol_s": round(first_s, 2),
            "ready_s": round(ready_s, 2),
            "idle_rss_mib": round(lsp.rss_mib(), 1),
            "torch_loaded": _maps_torch(lsp.pid),
        }
    finally:
        await lsp.close()


def _maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def idle_rss(scratch: Path) -> dict[str, Any]:
    """The sample workspace, fully indexed and embedded, served twice."""
    from atoll.config import load_config
    from atoll.indexing import WorkspaceIndex

    root = scratch / "idle-ws"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(SAMPLE, root)
    index = WorkspaceIndex.open(root, load_config(root, cli={"indexing.embeddings": "1"}).config)
    index.index_all()
    index.close()
    return {
        "embeddings_on": asyncio.run(_serve_rss(root, True)),
        "embeddings_off": asyncio.run(_serve_rss(root, False)),
    }
