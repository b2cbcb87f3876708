"""The repository map: files → their classes and functions with signatures, ranked by use.

A file's weight is a PageRank over the "file A mentions a name file B defines" graph
(as Aider's repo map does), seeded towards the focus files; symbols within a file are
ranked by how often their name is used. The text is cut to a token budget.
"""

from __future__ import annotations

from collections import defaultdict

from atoll.indexing.analyze import decode_refs
from atoll.indexing.chunks import estimate_tokens
from atoll.indexing.files import from_db, shown
from atoll.indexing.store import SymbolStore

_SHOWN_KINDS = (5, 23, 11, 10, 12, 6, 2, 3, 19, 9)  # types, functions, methods, modules, objects


def _pagerank(
    edges: dict[int, dict[int, float]],
    nodes: list[int],
    seed: dict[int, float],
    rounds: int = 20,
    damping: float = 0.85,
) -> dict[int, float]:
    rank = {n: 1.0 / len(nodes) for n in nodes}
    for _ in range(rounds):
        nxt = {n: (1 - damping) * seed.get(n, 0.0) for n in nodes}
        for src, outs in edges.items():
            total = sum(outs.values())
            if total <= 0:
                continue
            share = damping * rank[src] / total
            for dst, w in outs.items():
                nxt[dst] += share * w
        rank = nxt
    return rank


def build_outline(store: SymbolStore, budget_tokens: int, focus: list[str]) -> str:
    files = {
        int(r[0]): (from_db(str(r[1])), str(r[2]), int(r[3]))
        for r in store.query("SELECT id, path, refs, vendored FROM files")
    }
    if not files:
        return ""
    symbols = store.query(
        "SELECT s.file_id, s.name, s.kind, s.signature, s.container, coalesce(r.n, 0) "
        "FROM symbols s LEFT JOIN ref_counts r ON r.name = s.name "
        f"WHERE s.kind IN ({','.join(map(str, _SHOWN_KINDS))}) ORDER BY s.file_id, s.id"
    )
    defined_in: dict[str, set[int]] = defaultdict(set)
    by_file: dict[int, list[tuple[str, int, str, str, int]]] = defaultdict(list)
    for fid, name, kind, sig, container, refs in symbols:
        defined_in[str(name)].add(int(fid))
        by_file[int(fid)].append((str(name), int(kind), str(sig), str(container), int(refs)))
    nodes = list(files)
    edges: dict[int, dict[int, float]] = defaultdict(dict)
    if len(files) <= 5000:  # the graph costs time on huge trees; counts alone rank those
        for fid, (_, blob, _) in files.items():
            for name, n in decode_refs(blob).items():
                for target in defined_in.get(name, ()):
                    if target != fid:
                        edges[fid][target] = edges[fid].get(target, 0.0) + n**0.5
    focus_ids = {fid for fid, (path, _, _) in files.items() if path in focus}
    seed = (
        {fid: 1.0 / len(focus_ids) for fid in focus_ids}
        if focus_ids
        else {fid: 1.0 / len(nodes) for fid in nodes}
    )
    rank = _pagerank(edges, nodes, seed)
    for fid in focus_ids:
        rank[fid] += 1.0  # the files being edited always come first
    ordered = sorted(
        (fid for fid in nodes if by_file.get(fid)),
        key=lambda fid: (files[fid][2], -rank[fid], files[fid][0]),
    )
    out: list[str] = []
    used = 0
    for fid in ordered:
        entries = sorted(by_file[fid], key=lambda e: -e[4])[:12]
        keep = {id(e) for e in entries}
        lines = [f"{shown(files[fid][0])}:"]
        for entry in by_file[fid]:
            if id(entry) in keep:
                indent = "  " * (1 + entry[3].count(".") + (1 if entry[3] else 0))
                lines.append(f"{indent}{entry[2] or entry[0]}")
        block = "\n".join(lines)
        cost = estimate_tokens(block) + 1
        if used + cost > budget_tokens:
            if not out:
                out.append(block[: max(0, budget_tokens * 4)])
            break
        out.append(block)
        used += cost
    return "\n".join(out)
