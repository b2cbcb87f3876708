"""Writing the rows of files: many files per transaction, reference counts as deltas.

The rows come ready-made from :mod:`atoll.indexing.analyze` (often from a worker
process), so a write is a handful of ``executemany`` calls per batch. FTS5 turns each
transaction into one index segment: one transaction per batch instead of per file is
most of what makes a full run fast.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from atoll.indexing.analyze import FileFacts, FileState, decode_refs
from atoll.indexing.files import to_db
from atoll.indexing.store import SymbolStore


@dataclass
class Removed:
    """Chunk ids a write dropped, and which of them had vectors."""

    chunks: set[int] = field(default_factory=set)
    embedded: set[int] = field(default_factory=set)


class RefTally:
    """Changes to the per-name reference totals, applied in one statement."""

    def __init__(self) -> None:
        self.delta: dict[str, int] = {}

    def add(self, refs: Mapping[str, int], sign: int) -> None:
        delta, get = self.delta, self.delta.get
        if sign > 0:
            for name, n in refs.items():
                delta[name] = get(name, 0) + n
        else:
            for name, n in refs.items():
                delta[name] = get(name, 0) - n

    def apply(self, conn: sqlite3.Connection) -> None:
        changed = [(name, n) for name, n in self.delta.items() if n]
        conn.executemany(
            "INSERT INTO ref_counts (name, n) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET n = n + excluded.n",
            changed,
        )
        # Only names that lost references can reach zero: no scan of the whole table.
        conn.executemany(
            "DELETE FROM ref_counts WHERE name = ? AND n <= 0",
            [(name,) for name, n in changed if n < 0],
        )
        self.delta.clear()


def delete_file(conn: sqlite3.Connection, relative: str, refs: RefTally | None) -> Removed:
    """Remove one file's rows; its references leave the totals through ``refs``."""
    row = conn.execute("SELECT id, refs FROM files WHERE path=?", (to_db(relative),)).fetchone()
    if row is None:
        return Removed()
    file_id = row[0]
    chunk_rows = conn.execute("SELECT cid, embedded FROM chunks WHERE file_id=?", (file_id,))
    removed = Removed()
    for cid, embedded in chunk_rows.fetchall():
        removed.chunks.add(cid)
        if embedded:
            removed.embedded.add(cid)
    conn.execute(
        "DELETE FROM symbols_fts WHERE rowid IN (SELECT id FROM symbols WHERE file_id=?)",
        (file_id,),
    )
    conn.execute("DELETE FROM symbols WHERE file_id=?", (file_id,))
    conn.execute(
        "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id=?)",
        (file_id,),
    )
    conn.execute("DELETE FROM chunks WHERE file_id=?", (file_id,))
    conn.execute("DELETE FROM files WHERE id=?", (file_id,))
    if refs is not None:
        refs.add(decode_refs(row[1]), -1)
    return removed


def write_files(
    store: SymbolStore,
    batch: Sequence[FileFacts],
    refs: RefTally,
    *,
    known: set[str],
    apply_refs: bool = False,
) -> Removed:
    """Replace the rows of every file in ``batch`` in one transaction.

    ``known``: the paths the index already holds (only those need deleting first).
    ``apply_refs``: fold the reference changes into the totals in the same transaction
    (a single-file update; a full run applies them once at its end). Returns the chunk
    ids that are gone (their vectors are to be deleted); a chunk whose id survives
    keeps its vector.
    """
    removed = Removed()
    with store.write() as conn:
        for facts in batch:
            if facts.relative in known:
                old = delete_file(conn, facts.relative, refs)
                removed.chunks |= old.chunks
                removed.embedded |= old.embedded
        next_symbol = _next_id(conn, "symbols")
        next_chunk = _next_id(conn, "chunks")
        symbols, terms, chunks, texts = [], [], [], []
        kept: set[int] = set()
        for facts in batch:
            assert facts.state is not None
            file_id = _insert_file(conn, facts, facts.state)
            for row in facts.symbols:
                symbols.append((next_symbol, file_id, row[0], row[0].lower(), *row[1:13]))
                terms.append((next_symbol, row[13]))
                next_symbol += 1
            for cid, symbol, sl, el, digest, text, extra, context in facts.chunks:
                embedded = 1 if cid in removed.embedded else 0
                kept.add(cid)
                chunks.append((next_chunk, cid, file_id, symbol, sl, el, digest, embedded))
                texts.append((next_chunk, text, extra, symbol, context))
                next_chunk += 1
            refs.add(facts.refs, 1)
        conn.executemany(
            "INSERT INTO symbols (id, file_id, name, lname, kind, container, sl, sc, el, ec, "
            "nsl, nsc, nel, nec, signature, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            symbols,
        )
        conn.executemany("INSERT INTO symbols_fts (rowid, words) VALUES (?, ?)", terms)
        conn.executemany(
            "INSERT INTO chunks (id, cid, file_id, symbol, sl, el, hash, embedded) "
            "VALUES (?,?,?,?,?,?,?,?)",
            chunks,
        )
        conn.executemany(
            "INSERT INTO chunks_fts (rowid, text, extra, symbol, context) VALUES (?,?,?,?,?)",
            texts,
        )
        if apply_refs:
            refs.apply(conn)
    removed.chunks -= kept
    removed.embedded -= kept
    return removed


def _next_id(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def _insert_file(conn: sqlite3.Connection, facts: FileFacts, state: FileState) -> int:
    cur = conn.execute(
        "INSERT INTO files (path, language, hash, mtime_ns, size, vendored, refs) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            to_db(facts.relative),
            facts.language,
            state.hash,
            state.mtime_ns,
            state.size,
            int(facts.vendored),
            facts.refs_blob,
        ),
    )
    return int(cur.lastrowid or 0)


def remove_files(
    store: SymbolStore, relatives: Sequence[str], refs: RefTally, *, apply_refs: bool = False
) -> Removed:
    """Forget files (one transaction); returns the chunk ids they had."""
    removed = Removed()
    with store.write() as conn:
        for rel in relatives:
            old = delete_file(conn, rel, refs)
            removed.chunks |= old.chunks
        if apply_refs:
            refs.apply(conn)
    return removed


def touch_files(store: SymbolStore, states: Sequence[tuple[str, FileState]]) -> None:
    """Same content, new mtime: remember it so the next run skips the files."""
    with store.write() as conn:
        conn.executemany(
            "UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?",
            [(s.mtime_ns, s.size, to_db(rel)) for rel, s in states],
        )


def rebuild_ref_counts(store: SymbolStore) -> None:
    """Recount references from every file's stored counts (after an interrupted run)."""
    total: Counter[str] = Counter()
    for (blob,) in store.query("SELECT refs FROM files"):
        total.update(decode_refs(blob))
    with store.write() as conn:
        conn.execute("DELETE FROM ref_counts")
        conn.executemany("INSERT INTO ref_counts VALUES (?, ?)", total.items())
