"""The SQLite side of the index: files, symbols (FTS5 over name words), chunks (FTS5/BM25).

WAL mode, one connection per thread, one writer at a time. Every file is replaced in
its own transaction, so a process killed mid-run leaves a consistent database that is
at most the one file in flight behind. A database that fails to open or check is set
aside (``index.db.corrupt-<time>``) and rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atoll.indexing.model import Chunk, Symbol
from atoll.indexing.names import search_terms, split_identifiers

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, language TEXT NOT NULL,
    hash TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    vendored INTEGER NOT NULL, refs TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, name TEXT NOT NULL, lname TEXT NOT NULL,
    kind INTEGER NOT NULL, container TEXT NOT NULL,
    sl INTEGER, sc INTEGER, el INTEGER, ec INTEGER, nsl INTEGER, nsc INTEGER, nel INTEGER,
    nec INTEGER, signature TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_lname ON symbols(lname);
CREATE VIRTUAL TABLE IF NOT EXISTS symbols_fts USING fts5(
    words, tokenize = "unicode61 tokenchars '_'", prefix = '2 3');
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, symbol TEXT NOT NULL,
    sl INTEGER NOT NULL, el INTEGER NOT NULL, hash TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded) WHERE embedded = 0;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, extra, symbol, detail = column);
CREATE TABLE IF NOT EXISTS ref_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""
SYMBOL_COLUMNS = (
    "s.name, s.kind, s.container, f.path, f.language, s.sl, s.sc, s.el, s.ec, "
    "s.nsl, s.nsc, s.nel, s.nec, s.signature, s.doc, coalesce(r.n, 0), f.vendored"
)
SYMBOL_FROM = "symbols s JOIN files f ON f.id = s.file_id LEFT JOIN ref_counts r ON r.name = s.name"
Row = tuple[Any, ...]


class CorruptIndexError(Exception):
    """The database file is not a usable index."""


class OldSchemaError(CorruptIndexError):
    """A healthy index written by another version of atoll: rebuilt, not kept."""


@dataclass(frozen=True)
class FileState:
    hash: str
    mtime_ns: int
    size: int


def chunk_id(relative: str, content: str, occurrence: int) -> int:
    """A stable 63-bit id: the same chunk text in the same file keeps its id (and vector)."""
    digest = hashlib.blake2b(f"{relative}\0{content}\0{occurrence}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


def encode_refs(counts: Counter[str]) -> str:
    return "\n".join(f"{name}\t{n}" for name, n in counts.items())


def decode_refs(blob: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in blob.splitlines():
        name, _, n = line.partition("\t")
        if n:
            counts[name] = int(n)
    return counts


class IndexClosedError(RuntimeError):
    """The index was closed (e.g. the server is shutting down) while work was under way."""


class SymbolStore:
    """Thread-safe access to ``index.db``; writes are serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.generation = 0  # bumped on every write; caches key on it
        self.bulk = False  # a full run is writing: caches may lag a little
        self.recovered_from: Path | None = None
        # Closing waits for calls in flight: closing a connection another thread is
        # using crashes the process inside SQLite.
        self.closed = False
        self._busy = 0
        self._idle = threading.Condition()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._check()
        except (sqlite3.DatabaseError, CorruptIndexError) as exc:
            self.recovered_from = self._set_aside(exc)
            self._check()

    # -- connections ---------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        # WAL is a property of the file, set once by _check(); readers never wait for writers.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-32000")
        with self._all_lock:
            self._connections.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _check(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            if self.path.stat().st_size < 64 * 2**20:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise CorruptIndexError(verdict)
            found = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                conn.commit()
            elif found[0] != SCHEMA_VERSION:
                raise OldSchemaError(f"schema {found[0]}, expected {SCHEMA_VERSION}")
        finally:
            conn.close()

    def _set_aside(self, exc: Exception) -> Path | None:
        if isinstance(exc, OldSchemaError):
            log.warning("index %s has another format (%s): rebuilding it", self.path, exc)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return None
        target = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d%H%M%S')}")
        log.warning(
            "index database %s is unusable (%s): set aside as %s, rebuilding",
            self.path,
            exc,
            target.name,
        )
        self.path.replace(target)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return target

    @contextmanager
    def _in_use(self) -> Iterator[None]:
        with self._idle:
            if self.closed:
                raise IndexClosedError(f"the index {self.path} is closed")
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new work, wait for calls in flight (at most ``timeout``), then close."""
        with self._idle:
            self.closed = True
            if not self._idle.wait_for(lambda: self._busy == 0, timeout):
                log.warning("index %s: %d calls still running at close", self.path, self._busy)
                return  # leave the connections to the process exit rather than crash
        with self._all_lock:
            for conn in self._connections:
                with suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._in_use(), self._write_lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self.generation += 1

    # -- meta ----------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        rows = self.query("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files ---------------------------------------------------------------------
    def file_states(self) -> dict[str, FileState]:
        rows = self.query("SELECT path, hash, mtime_ns, size FROM files")
        return {r[0]: FileState(r[1], r[2], r[3]) for r in rows}

    def replace_file(
        self,
        relative: str,
        language: str,
        state: FileState,
        vendored: bool,
        symbols: Sequence[Symbol],
        chunks: Sequence[Chunk],
        refs: Counter[str],
        *,
        update_ref_counts: bool = True,
        chunk_words: Sequence[str] | None = None,
    ) -> tuple[set[int], set[int]]:
        """Replace one file's rows; returns (chunk ids removed, chunk ids added).

        ``chunk_words`` (the split identifiers of each chunk) may come precomputed from a
        worker process, which keeps the single writer busy with SQLite only.
        """
        words = (
            chunk_words if chunk_words is not None else [split_identifiers(c.text) for c in chunks]
        )
        with self.write() as conn:
            old = self._delete(conn, relative, update_ref_counts)
            cur = conn.execute(
                "INSERT INTO files (path, language, hash, mtime_ns, size, vendored, refs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    relative,
                    language,
                    state.hash,
                    state.mtime_ns,
                    state.size,
                    int(vendored),
                    encode_refs(refs),
                ),
            )
            file_id = cur.lastrowid
            first = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM symbols").fetchone()[0])
            conn.executemany(
                "INSERT INTO symbols (id, file_id, name, lname, kind, container, sl, sc, el, ec, "
                "nsl, nsc, nel, nec, signature, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        first + n,
                        file_id,
                        s.name,
                        s.name.lower(),
                        s.kind,
                        s.container,
                        s.start_line,
                        s.start_col,
                        s.end_line,
                        s.end_col,
                        s.sel_start_line,
                        s.sel_start_col,
                        s.sel_end_line,
                        s.sel_end_col,
                        s.signature,
                        s.doc,
                    )
                    for n, s in enumerate(symbols)
                ],
            )
            conn.executemany(
                "INSERT INTO symbols_fts (rowid, words) VALUES (?, ?)",
                [(first + n, search_terms(s.name)) for n, s in enumerate(symbols)],
            )
            seen: Counter[str] = Counter()
            rows = []
            for c, extra in zip(chunks, words, strict=True):
                cid = chunk_id(relative, c.content_hash, seen[c.content_hash])
                seen[c.content_hash] += 1
                rows.append((cid, c, extra, 1 if cid in old.embedded else 0))
            conn.executemany(
                "INSERT OR REPLACE INTO chunks (id, file_id, symbol, sl, el, hash, embedded) "
                "VALUES (?,?,?,?,?,?,?)",
                [
                    (cid, file_id, c.symbol, c.start_line, c.end_line, c.content_hash, e)
                    for cid, c, _, e in rows
                ],
            )
            conn.executemany(
                "INSERT INTO chunks_fts (rowid, text, extra, symbol) VALUES (?,?,?,?)",
                [(cid, c.text, extra, c.symbol) for cid, c, extra, _ in rows],
            )
            new = {row[0] for row in rows}
            if update_ref_counts:
                self._add_refs(conn, refs, 1)
        return old.chunks - new, new - old.embedded

    def file_state(self, relative: str) -> FileState | None:
        rows = self.query("SELECT hash, mtime_ns, size FROM files WHERE path = ?", (relative,))
        return FileState(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def touch_file(self, relative: str, state: FileState) -> None:
        """Same content, new mtime: remember it so the next run skips the file."""
        with self.write() as conn:
            conn.execute(
                "UPDATE files SET mtime_ns = ?, size = ? WHERE path = ?",
                (state.mtime_ns, state.size, relative),
            )

    def remove_file(self, relative: str, *, update_ref_counts: bool = True) -> set[int]:
        with self.write() as conn:
            return self._delete(conn, relative, update_ref_counts).chunks

    @dataclass
    class _Old:
        chunks: set[int]
        embedded: set[int]

    def _delete(self, conn: sqlite3.Connection, relative: str, refs: bool) -> SymbolStore._Old:
        row = conn.execute("SELECT id, refs FROM files WHERE path=?", (relative,)).fetchone()
        if row is None:
            return SymbolStore._Old(set(), set())
        file_id = row[0]
        chunk_rows = conn.execute(
            "SELECT id, embedded FROM chunks WHERE file_id=?", (file_id,)
        ).fetchall()
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
        if refs:
            self._add_refs(conn, decode_refs(row[1]), -1)
        return SymbolStore._Old({r[0] for r in chunk_rows}, {r[0] for r in chunk_rows if r[1]})

    @staticmethod
    def _add_refs(conn: sqlite3.Connection, refs: Counter[str], sign: int) -> None:
        conn.executemany(
            "INSERT INTO ref_counts (name, n) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET n = n + excluded.n",
            ((name, sign * n) for name, n in refs.items()),
        )

    def rebuild_ref_counts(self) -> None:
        """Recount references from every file's stored counts (after a bulk run)."""
        total: Counter[str] = Counter()
        for (blob,) in self.query("SELECT refs FROM files"):
            total.update(decode_refs(blob))
        with self.write() as conn:
            conn.execute("DELETE FROM ref_counts")
            conn.executemany("INSERT INTO ref_counts VALUES (?, ?)", total.items())
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('refs_dirty', '0')")

    def counts(self) -> dict[str, int]:
        return {
            table: int(self.query(f"SELECT count(*) FROM {table}")[0][0])
            for table in ("files", "symbols", "chunks")
        }

    def pending_chunks(self, limit: int) -> list[tuple[int, str, str, str, str]]:
        """Chunks not yet embedded: (id, path, language, symbol, text)."""
        return self.query(
            "SELECT c.id, f.path, f.language, c.symbol, t.text FROM chunks c "
            "JOIN files f ON f.id = c.file_id JOIN chunks_fts t ON t.rowid = c.id "
            "WHERE c.embedded = 0 LIMIT ?",
            (limit,),
        )

    def mark_embedded(self, ids: Iterable[int]) -> None:
        with self.write() as conn:
            conn.executemany("UPDATE chunks SET embedded = 1 WHERE id = ?", ((i,) for i in ids))

    def reset_embedded(self) -> None:
        with self.write() as conn:
            conn.execute("UPDATE chunks SET embedded = 0")

    # -- reads ---------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[object] = ()) -> list[Row]:
        """Run a read; raises :class:`IndexClosedError` once the store is closing."""
        with self._in_use():
            return self.conn.execute(sql, tuple(params)).fetchall()
