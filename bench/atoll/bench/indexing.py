"""Index speed on a real, large tree: the running interpreter's stdlib plus the venv's site-packages.

Measures tree-sitter's parse alone (the floor under any index built from its trees),
symbol extraction and the full index (symbols + chunks + FTS, no vectors) against
universal-ctags on the same files, how much N processes gain on this machine at all
(``cpu_scaling``: shared or hyper-threaded cores give far less than N), peak memory, one-file re-index,
``workspace/symbol`` latency through the LSP, and (``index_runtime``) embedding
throughput locally and from an embedding server, and the idle server's memory.
``--quick`` shrinks the tree.
Options: ``--set``-style ``ctx.options["files"]`` caps the file count (0: everything).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from atoll.bench import index_runtime
from atoll.bench.harness import BenchContext, Suite, chart

QUICK_FILES = 1500
DEFAULT_FILES = 7000


def source_tree(scratch: Path, limit: int) -> tuple[Path, list[str]]:
    """A folder of links to the stdlib's and site-packages' .py files (``limit`` of them)."""
    paths = sysconfig.get_paths()
    files: list[tuple[str, Path]] = []
    for name, base in (
        ("stdlib", Path(paths["stdlib"])),
        ("site-packages", Path(paths["purelib"])),
    ):
        for folder, dirs, names in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "site-packages"))
            here = Path(name) / Path(folder).relative_to(base)
            files.extend(
                ((here / n).as_posix(), Path(folder) / n)
                for n in sorted(names)
                if n.endswith(".py")
            )
    if limit and len(files) > limit:
        random.Random(7).shuffle(files)
        files = files[:limit]
    files.sort()
    root = scratch / "tree"
    shutil.rmtree(root, ignore_errors=True)
    for rel, target in files:
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    return root, [rel for rel, _ in files]


def _extract(job: tuple[str, list[str]]) -> tuple[int, int]:
    from atoll.indexing.analyze import analyze

    root, rels = job
    symbols = 0
    for rel in rels:
        facts = analyze(Path(root), rel, max_bytes=512 * 1024, chunk_tokens=256, chunks=False)
        symbols += len(facts.symbols)
    return len(rels), symbols


def _parse(job: tuple[str, list[str]]) -> tuple[int, int]:
    """tree-sitter's parse alone: the floor under any index built from its trees."""
    from atoll.indexing.grammars import parser_and_query

    root, rels = job
    parser = parser_and_query("python")[0]
    for rel in rels:
        parser.parse((Path(root) / rel).read_bytes())
    return len(rels), 0


def extraction(root: Path, files: list[str], workers: int, job: Any = _extract) -> dict[str, Any]:
    """Symbols only (parse + query + docstrings), no database; ``job=_parse``: parse only."""
    started = time.perf_counter()
    batches = [files[i : i + 200] for i in range(0, len(files), 200)]
    if workers == 1:
        results = [job((str(root), b)) for b in batches]
    else:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(job, [(str(root), b) for b in batches]))
    seconds = time.perf_counter() - started
    symbols = sum(r[1] for r in results)
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "symbols": symbols,
        "files_per_s": round(len(files) / seconds, 1),
        "symbols_per_s": round(symbols / seconds, 1),
    }


def _spin(n: int) -> float:
    started = time.process_time()
    total = 0
    for i in range(n):
        total += i
    return time.process_time() - started


def cpu_scaling(workers: int, n: int = 10_000_000) -> dict[str, Any]:
    """The same pure-Python loop in 1 and in ``workers`` processes: the throughput the
    machine gives N processes. Shared or hyper-threaded cores give much less than N."""
    started = time.perf_counter()
    _spin(n)
    one = time.perf_counter() - started
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_spin, [1000] * workers))  # the processes are up before timing
        started = time.perf_counter()
        list(pool.map(_spin, [n] * workers))
        many = time.perf_counter() - started
    return {"workers": workers, "speedup": round(workers * one / many, 2)}


def ctags(root: Path, files: list[str], scratch: Path) -> dict[str, Any]:
    exe = shutil.which("ctags")
    if exe is None:
        return {"error": "universal-ctags is not installed (apt-get install -y universal-ctags)"}
    listing = scratch / "files.txt"
    listing.write_text("\n".join(files) + "\n")
    out = scratch / "tags"
    started = time.perf_counter()
    subprocess.run(
        [exe, "-L", str(listing), "-f", str(out), "--languages=Python", "--python-kinds=-iIlxz"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    tags = sum(1 for line in out.open(errors="replace") if not line.startswith("!_"))
    return {
        "seconds": round(seconds, 2),
        "tags": tags,
        "files_per_s": round(len(files) / seconds, 1),
        "tags_per_s": round(tags / seconds, 1),
    }


def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def full_index(root: Path, files: list[str], scratch: Path) -> tuple[dict[str, Any], Path]:
    from atoll.config import load_config
    from atoll.indexing import WorkspaceIndex

    folder = scratch / "index"
    shutil.rmtree(folder, ignore_errors=True)
    # The tree is links to the interpreter's files: follow them (machine scope, so
    # a workspace could not ask for it).
    sets = {
        "indexing.embeddings": "0",
        "indexing.index_dir": str(folder),
        "indexing.follow_symlinks": "1",
    }
    idx = WorkspaceIndex.open(root, load_config(None, cli=sets).config)
    started = time.perf_counter()
    stats = idx.index_all()
    seconds = time.perf_counter() - started
    again = time.perf_counter()
    idx.index_all()
    noop = time.perf_counter() - again
    target = root / next(f for f in files if f.startswith("stdlib/"))
    text = target.read_text("utf-8", "replace")
    times = []
    for i in range(5):
        t = time.perf_counter()
        idx.update_file(target, text + f"\n\ndef bench_added_{i}():\n    return {i}\n")
        times.append((time.perf_counter() - t) * 1000)
    idx.update_file(target, text)
    result = {
        "files": stats.files,
        "symbols": stats.symbols,
        "chunks": stats.chunks,
        "seconds": round(seconds, 2),
        "files_per_s": round(stats.files / seconds, 1),
        "symbols_per_s": round(stats.symbols / seconds, 1),
        "noop_rerun_s": round(noop, 2),
        "reindex_one_file_ms_median": round(statistics.median(times), 1),
        "reindex_file": str(target.relative_to(root)),
        "peak_rss_mib": _peak_mib(),
        "db_mib": round((folder / "index.db").stat().st_size / 2**20, 1),
    }
    names = [
        str(r[0]) for r in idx.store.query("SELECT name FROM symbols ORDER BY random() LIMIT 300")
    ]
    idx.close()
    (scratch / "names.txt").write_text("\n".join(names))
    return result, folder


async def _lsp_latency(root: Path, folder: Path, queries: list[str]) -> dict[str, Any]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("atoll-bench", "0")
    env = {
        **os.environ,
        "ATOLL_INDEXING_EMBEDDINGS": "0",
        "ATOLL_INDEXING_INDEX_DIR": str(folder),
        "ATOLL_COMPLETION_ENABLED": "0",
        "ATOLL_INDEXING_ENABLED": "1",
        "ATOLL_INDEXING_FOLLOW_SYMLINKS": "1",
    }
    await client.start_io(sys.executable, "-m", "atoll.cli", "serve", env=env)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                process_id=os.getpid(),
            )
        )
        client.initialized(types.InitializedParams())
        for _ in range(1200):  # the start-up run finds every file unchanged
            state = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="atoll.status", arguments=[])
            )
            if isinstance(state, dict) and state.get("index", {}).get("state") == "ready":
                break
            await asyncio.sleep(0.1)
        times = []
        for q in queries:
            t = time.perf_counter()
            await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=q))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return {
            "queries": len(times),
            "p50_ms": round(times[len(times) // 2], 2),
            "p95_ms": round(times[int(len(times) * 0.95)], 2),
            "max_ms": round(times[-1], 2),
        }
    finally:
        try:
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        finally:
            await client.stop()  # type: ignore[no-untyped-call]


def symbol_queries(names: list[str]) -> list[str]:
    """Exact names, prefixes, and fuzzy abbreviations of real symbols."""
    rng = random.Random(3)
    out: list[str] = []
    for name in names:
        out.append(name)
        out.append(name[: max(2, len(name) // 2)])
        parts = [p for p in name.replace("__", "_").split("_") if p]
        if len(parts) > 1:
            out.append("".join(p[0] for p in parts))
    rng.shuffle(out)
    return out[:400]


def run(ctx: BenchContext) -> dict[str, Any]:
    scratch = ctx.scratch("indexing")
    limit = int(ctx.options.get("files", QUICK_FILES if ctx.quick else DEFAULT_FILES))
    root, files = source_tree(scratch, limit)
    cpus = os.cpu_count() or 1
    results: dict[str, Any] = {"tree": {"files": len(files), "roots": ["stdlib", "site-packages"]}}
    results["ctags"] = ctags(root, files, scratch)
    if cpus > 1:
        results["cpu_scaling"] = cpu_scaling(cpus)
    results["parse_1_process"] = extraction(root, files, 1, _parse)
    results["extract_1_process"] = extraction(root, files, 1)
    if cpus > 1:
        results[f"parse_{cpus}_processes"] = extraction(root, files, cpus, _parse)
        results[f"extract_{cpus}_processes"] = extraction(root, files, cpus)
    results["full_index"], folder = full_index(root, files, scratch)
    if "tags_per_s" in results["ctags"]:
        ctags_rate = results["ctags"]["files_per_s"]
        for kind, key in (("parse_", "parse_vs_ctags"), ("extract_", "files_per_s_vs_ctags")):
            best = max(v["files_per_s"] for k, v in results.items() if k.startswith(kind))
            results[key] = round(best / ctags_rate, 3)
        # The measure: the whole symbol index (symbols, chunks, FTS; no vectors).
        results["full_index_vs_ctags"] = round(results["full_index"]["files_per_s"] / ctags_rate, 3)
    names = (scratch / "names.txt").read_text().splitlines()
    results["workspace_symbol_lsp"] = asyncio.run(_lsp_latency(root, folder, symbol_queries(names)))
    sample = 64 if ctx.quick else 256
    results["embeddings_local"] = index_runtime.local_embedding(folder, sample)
    try:
        results["embeddings_remote"] = index_runtime.remote_embedding(folder, sample // 4, scratch)
    except Exception as exc:  # the other numbers stand without it
        results["embeddings_remote"] = {"error": f"{type(exc).__name__}: {exc}"}
    results["server_idle"] = index_runtime.idle_rss(scratch)
    bars = {"universal-ctags": results["ctags"].get("files_per_s", 0.0)}
    for key, value in results.items():
        if key.startswith("parse_") and isinstance(value, dict):
            bars[f"tree-sitter parse, {value['workers']} process(es)"] = value["files_per_s"]
    for key, value in results.items():
        if key.startswith("extract_"):
            bars[f"atoll, {value['workers']} process(es)"] = value["files_per_s"]
    bars["atoll full index"] = results["full_index"]["files_per_s"]
    results["charts"] = [
        chart("files per second", "bar", {"files/s": list(bars.values())}, x=list(bars),
              ylabel="files/s")
    ]  # fmt: skip
    return results


SUITE = Suite(
    "indexing",
    "Index speed vs ctags, re-index, workspace/symbol latency, chunks/s, idle server RSS",
    run,
)
