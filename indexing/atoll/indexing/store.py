"""The SQLite side of the index: files, symbols (FTS5 over name words), chunks (FTS5/BM25).

WAL mode, one connection per thread. Many processes may read one index at once; only
the holder of the folder's writer lock (:mod:`atoll.indexing.lock`) opens it for
writing, and only a writer ever repairs anything. A full run commits a batch of files
per transaction, so a process killed mid-run leaves a consistent database that is at
most one batch behind.

A database is set aside (renamed ``index.db.corrupt-<time>``, never deleted) only when
SQLite says it is not a database or ``PRAGMA quick_check`` fails. "Locked" or "busy"
is another process at work, never damage.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from atoll.indexing.analyze import FileState
from atoll.indexing.aside import aside_name
from atoll.indexing.files import from_db, to_db

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
# Rows are numbered in insertion order (``id``), so a full run appends to every table
# and FTS index instead of writing all over a large file. A chunk's ``cid`` is its
# stable, content-addressed id: the id of its vector.
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
-- No prefix index: it cost a fifth of a full run and workspace/symbol was no faster.
CREATE VIRTUAL TABLE IF NOT EXISTS symbols_fts USING fts5(
    words, tokenize = "unicode61 tokenchars '_'");
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, cid INTEGER NOT NULL, file_id INTEGER NOT NULL,
    symbol TEXT NOT NULL, sl INTEGER NOT NULL, el INTEGER NOT NULL, hash TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE INDEX IF NOT EXISTS chunks_cid ON chunks(cid);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded) WHERE embedded = 0;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, extra, symbol, context, detail = column,
    tokenize = "unicode61 remove_diacritics 0");
CREATE TABLE IF NOT EXISTS ref_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""
SYMBOL_COLUMNS = (
    "s.name, s.kind, s.container, f.path, f.language, s.sl, s.sc, s.el, s.ec, "
    "s.nsl, s.nsc, s.nel, s.nec, s.signature, s.doc, coalesce(r.n, 0), f.vendored"
)
SYMBOL_FROM = "symbols s JOIN files f ON f.id = s.file_id LEFT JOIN ref_counts r ON r.name = s.name"
Row = tuple[Any, ...]
_BUSY = ("locked", "busy")


class CorruptIndexError(Exception):
    """The database file is not a usable index."""


class OldSchemaError(CorruptIndexError):
    """A healthy index written by another version of atoll: set aside, rebuilt."""


class IndexBusyError(RuntimeError):
    """Another process holds the database locked longer than we wait; not damage."""


class IndexClosedError(RuntimeError):
    """The index was closed (e.g. the server is shutting down) while work was under way."""


class ReadOnlyIndexError(RuntimeError):
    """A write on an index this process only reads (another process is its writer)."""


def _is_busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc) for w in _BUSY)


class SymbolStore:
    """Thread-safe access to ``index.db``; a writable store's writes are serialised."""

    def __init__(self, path: Path, *, writable: bool = True) -> None:
        self.path = path
        self.writable = writable
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.generation = 0  # bumped on every write; caches key on it
        self.bulk = False  # a full run is writing: caches may lag a little
        self.recovered_from: Path | None = None
        self.unavailable = ""  # a read-only store that cannot be read: why
        # Closing waits for calls in flight: closing a connection another thread is
        # using crashes the process inside SQLite.
        self.closed = False
        self._busy = 0
        self._idle = threading.Condition()
        if writable:
            self._open_for_writing()
        else:
            self._open_for_reading()

    # -- opening -------------------------------------------------------------------
    def _open_for_writing(self) -> None:
        try:
            self._check()
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise IndexBusyError(f"{self.path} is locked by another process: {exc}") from exc
            if isinstance(exc, sqlite3.OperationalError):
                raise  # cannot open or write the file (permissions, disk): not damage
            self.recovered_from = self._set_aside(exc)
            self._check()
        except CorruptIndexError as exc:
            self.recovered_from = self._set_aside(exc)
            self._check()

    def _open_for_reading(self) -> None:
        if not self.path.exists():
            self.unavailable = "not indexed yet"
            return
        try:
            found = self._connect().execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.Error as exc:
            self.unavailable = f"cannot read the index: {exc}"
            log.warning("index %s: %s (its writer will check it)", self.path, self.unavailable)
            return
        if found is None or found[0] != SCHEMA_VERSION:
            self.unavailable = "the index has another format; `atoll index` rebuilds it"

    def _connect(self) -> sqlite3.Connection:
        if self.writable:
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            # WAL is a property of the file, set once by _check(); readers never wait.
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            uri = f"{self.path.absolute().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
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
        """Rename the database (and its WAL) out of the way; never delete it.

        Returns the new name of a damaged database (None for one of another format:
        nothing went wrong, the user need not be told).
        """
        tag = "old-format" if isinstance(exc, OldSchemaError) else "corrupt"
        target = aside_name(self.path, tag)
        log.warning(
            "index database %s is %s (%s): set aside as %s, rebuilding",
            self.path,
            "of another format" if tag == "old-format" else "unusable",
            exc,
            target.name,
        )
        self.path.rename(target)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                side.replace(Path(f"{target}{suffix}"))
        return None if tag == "old-format" else target

    # -- lifetime ------------------------------------------------------------------
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
        """One transaction; raises :class:`ReadOnlyIndexError` on a read-only store."""
        if not self.writable:
            raise ReadOnlyIndexError(f"{self.path} is open read-only")
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

    # -- reads ---------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[object] = ()) -> list[Row]:
        """Run a read; raises :class:`IndexClosedError` once the store is closing.

        A read-only store that cannot be read answers nothing, never an error.
        """
        with self._in_use():
            if self.unavailable:
                return []
            return self.conn.execute(sql, tuple(params)).fetchall()

    def get_meta(self, key: str, default: str = "") -> str:
        rows = self.query("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def file_states(self) -> dict[str, FileState]:
        rows = self.query("SELECT path, hash, mtime_ns, size FROM files")
        return {from_db(r[0]): FileState(r[1], r[2], r[3]) for r in rows}

    def file_state(self, relative: str) -> FileState | None:
        rows = self.query(
            "SELECT hash, mtime_ns, size FROM files WHERE path = ?", (to_db(relative),)
        )
        return FileState(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def counts(self) -> dict[str, int]:
        return {
            table: int(found[0][0]) if (found := self.query(f"SELECT count(*) FROM {table}")) else 0
            for table in ("files", "symbols", "chunks")
        }

    def pending_chunks(
        self, limit: int, after: int = -1
    ) -> list[tuple[int, str, str, str, str, int]]:
        """Chunks not yet embedded, in row order after row ``after``:
        (cid, path as stored, language, context, text, row)."""
        return [
            (int(r[0]), r[1], r[2], r[3], r[4], int(r[5]))
            for r in self.query(
                "SELECT c.cid, f.path, f.language, t.context, t.text, c.id FROM chunks c "
                "JOIN files f ON f.id = c.file_id JOIN chunks_fts t ON t.rowid = c.id "
                "WHERE c.embedded = 0 AND c.id > ? ORDER BY c.id LIMIT ?",
                (after, limit),
            )
        ]

    def pending_count(self) -> int:
        found = self.query("SELECT count(*) FROM chunks WHERE embedded = 0")
        return int(found[0][0]) if found else 0

    def mark_embedded(self, ids: Iterable[int]) -> None:
        with self.write() as conn:
            conn.executemany("UPDATE chunks SET embedded = 1 WHERE cid = ?", ((i,) for i in ids))

    def reset_embedded(self) -> None:
        with self.write() as conn:
            conn.execute("UPDATE chunks SET embedded = 0")
