"""Retrieval quality: docstring → function search over two code bases.

Each query is the first sentence of a function's docstring; the indexed code has every
function docstring removed, so the words cannot simply be looked up. A query counts as
found at k when one of the top-k hits covers the function's ``def`` line. Compared:
AST chunks vs fixed 40-line chunks, and lexical vs vector vs hybrid (RRF) ranking, on
modules of the standard library and of a package that is not (``rich``, installed with
atoll; ``--set``-style ``ctx.options["second"]`` names another installed package).
"""

from __future__ import annotations

import importlib
import random
import re
import shutil
import sysconfig
import time
from pathlib import Path
from typing import Any

from atoll.bench.harness import BenchContext, Suite, chart

QUICK_FILES, DEFAULT_FILES = 12, 40
SECOND = "rich"  # a second code base that is not the standard library
MAX_QUERIES = 150  # each vector query embeds the query: ~0.1-0.4 s on 2 busy cores
_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.S)


def source_folder(corpus: str) -> Path:
    """The stdlib, or an installed package's folder."""
    if corpus == "stdlib":
        return Path(sysconfig.get_paths()["stdlib"])
    module = importlib.import_module(corpus)
    return Path(str(module.__file__)).parent


def pick_files(limit: int, corpus: str = "stdlib") -> list[Path]:
    folder = source_folder(corpus)
    found = folder.glob("*.py") if corpus == "stdlib" else folder.rglob("*.py")
    files = [p for p in sorted(found) if 8_000 < p.stat().st_size < 80_000]
    random.Random(11).shuffle(files)
    return sorted(files[:limit])


def strip_docstrings(data: bytes) -> tuple[bytes, list[tuple[str, str, int]]]:
    """Function docstrings replaced by ``...``; returns the code and, per function,
    (name, first sentence, the name's 0-based line in the returned code).

    The line, not the name, is the target: a file may define one name several times
    (a property's getter and setter, one method in several classes)."""
    from tree_sitter import Query, QueryCursor
    from tree_sitter_language_pack import get_language, get_parser

    tree = get_parser("python").parse(data)
    query = Query(
        get_language("python"),
        "(function_definition name: (identifier) @name body: (block . (string) @doc))",
    )
    cuts: list[tuple[int, int]] = []
    found: list[tuple[str, str, int]] = []
    for _, caps in QueryCursor(query).matches(tree.root_node):
        doc, name_node = caps["doc"][0], caps["name"][0]
        name = (name_node.text or b"").decode()
        text = (doc.text or b"").decode("utf-8", "replace").strip("rbuRBU").strip("\"'").strip()
        sentence = _SENTENCE.match(" ".join(text.split()))
        first = sentence.group(1) if sentence else " ".join(text.split())
        cuts.append((doc.start_byte, doc.end_byte))
        if len(first.split()) >= 4:
            found.append((name, first, name_node.start_byte))
    for start, end in sorted(cuts, reverse=True):
        data = data[:start] + b"..." + data[end:]
    return data, [(n, f, _line_after(cuts, at, data)) for n, f, at in found]


def _line_after(cuts: list[tuple[int, int]], at: int, stripped: bytes) -> int:
    """The line of original byte ``at`` once every cut before it became ``...``."""
    shift = sum(end - start - 3 for start, end in cuts if end <= at)
    return stripped.count(b"\n", 0, at - shift)


# (file, function name, query sentence, the function name's 0-based line in the file)
Query = tuple[str, str, str, int]


def build_corpus(scratch: Path, limit: int, corpus: str = "stdlib") -> tuple[Path, list[Query]]:
    root = scratch / "corpus"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    queries: list[Query] = []
    base = source_folder(corpus)
    for path in pick_files(limit, corpus):
        code, found = strip_docstrings(path.read_bytes())
        rel = path.relative_to(base).as_posix()
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(code)
        queries.extend((rel, name, sentence, line) for name, sentence, line in found)
    seen: set[str] = set()
    unique = []
    for q in queries:
        if q[2] not in seen:
            seen.add(q[2])
            unique.append(q)
    random.Random(5).shuffle(unique)
    return root, unique[:MAX_QUERIES]


def evaluate(root: Path, queries: list[Query], chunking: str, scratch: Path) -> dict[str, Any]:
    from atoll.config import load_config
    from atoll.indexing import WorkspaceIndex

    folder = scratch / f"index-{chunking}"
    shutil.rmtree(folder, ignore_errors=True)
    config = load_config(
        None,
        cli={
            "indexing.index_dir": str(folder),
            "indexing.chunking": chunking,
            "indexing.embeddings": "1",
        },
    ).config
    idx = WorkspaceIndex.open(root, config)
    started = time.perf_counter()
    stats = idx.index_all()
    seconds = time.perf_counter() - started
    targets = [(root / rel, line) for rel, _, _, line in queries]
    search = idx.hybrid()
    out: dict[str, Any] = {"chunks": stats.chunks, "index_and_embed_s": round(seconds, 1)}
    for mode in ("lexical", "vector", "hybrid"):
        at1 = at10 = 0
        t = time.perf_counter()
        for (_, _, sentence, _), (path, line) in zip(queries, targets, strict=True):
            hits = search.search(sentence, 10, mode=mode)
            ranks = [
                i
                for i, h in enumerate(hits)
                if h.path == path and h.start_line <= line <= h.end_line
            ]
            at1 += bool(ranks and ranks[0] == 0)
            at10 += bool(ranks)
        n = max(1, len(queries))
        out[mode] = {
            "recall_at_1": round(at1 / n, 3),
            "recall_at_10": round(at10 / n, 3),
            "ms_per_query": round((time.perf_counter() - t) * 1000 / n, 1),
        }
    idx.close()
    return out


def run(ctx: BenchContext) -> dict[str, Any]:
    limit = int(ctx.options.get("files", QUICK_FILES if ctx.quick else DEFAULT_FILES))
    results: dict[str, Any] = {"files": limit}
    charts: list[dict[str, Any]] = []
    for corpus in ("stdlib", ctx.options.get("second", SECOND)):
        scratch = ctx.scratch(f"retrieval-{corpus}")
        root, queries = build_corpus(scratch, limit, corpus)
        found: dict[str, Any] = {"queries": len(queries)}
        for chunking in ("ast", "lines"):
            found[f"{chunking}_chunks"] = evaluate(root, queries, chunking, scratch)
        ast, lines = found["ast_chunks"]["hybrid"], found["lines_chunks"]["hybrid"]
        found["ast_minus_lines_hybrid_recall_at_10"] = round(
            ast["recall_at_10"] - lines["recall_at_10"], 3
        )
        results[corpus] = found
        charts.extend(_charts(corpus, found))
    results["charts"] = charts
    return results


def _charts(corpus: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    modes = ["lexical", "vector", "hybrid"]
    return [
        chart(
            f"{corpus}: recall@{k} by search mode",
            "bar",
            {
                "AST chunks": [found["ast_chunks"][m][f"recall_at_{k}"] for m in modes],
                "40-line chunks": [found["lines_chunks"][m][f"recall_at_{k}"] for m in modes],
            },
            x=modes,
            ylabel=f"recall@{k}",
        )
        for k in (1, 10)
    ]


SUITE = Suite(
    "retrieval",
    "Docstring → function recall@1/@10 (stdlib, rich): AST vs 40-line chunks, 3 rankings",
    run,
)
