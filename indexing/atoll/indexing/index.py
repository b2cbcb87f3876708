"""``WorkspaceIndex``: the one object completion, hover, agents and the server talk to.

Many processes may open one workspace's index: the editor's ``atoll serve``, a second
editor window, ``atoll index`` or ``atoll search`` in a terminal. Each reads the same
SQLite database at once. One of them at a time is the *writer* (it holds the index
folder's writer lock, see :mod:`atoll.indexing.lock`): only it indexes, repairs, and
owns the embedded vector store. The others read; ``writer`` says who writes, and
:meth:`WorkspaceIndex.promote` takes over once that process is gone.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

from atoll import languages
from atoll.codeindex import SearchScope
from atoll.config import AtollConfig
from atoll.indexing import writes
from atoll.indexing.analyze import parse_text
from atoll.indexing.embed import EmbeddingError
from atoll.indexing.files import storable, to_db
from atoll.indexing.full_run import RunSettings, analyze_one, run_full
from atoll.indexing.lock import Holder, WriterLock, holder
from atoll.indexing.lookup import SymbolSearch, row_to_symbol
from atoll.indexing.model import IndexStats, Progress, SearchHit, Symbol
from atoll.indexing.search import HybridSearch
from atoll.indexing.store import SYMBOL_COLUMNS, SYMBOL_FROM, ReadOnlyIndexError, SymbolStore
from atoll.indexing.vectorside import VectorSide

log = logging.getLogger(__name__)


def index_dir(root: Path, config: AtollConfig) -> Path:
    folder = Path(os.path.expanduser(config.indexing.index_dir))
    return folder if folder.is_absolute() else root / folder


class WorkspaceIndex:
    """Symbols, chunks and vectors of one workspace folder. Every method is thread-safe."""

    def __init__(
        self,
        root: Path,
        config: AtollConfig,
        *,
        write: bool = True,
        command: str = "index",
        wait_s: float = 0.0,
        interactive: bool = False,
    ) -> None:
        self.root = root.absolute()
        self.config = config
        self.folder = index_dir(self.root, config)
        # The editor never waits for the embedding model (see HybridSearch.search).
        self.interactive = interactive
        self.lock = WriterLock(self.folder, command)
        writable = write and self.lock.acquire(wait_s)
        self.writer: Holder | None = holder(self.folder) if write and not writable else None
        try:
            self._attach(SymbolStore(self.folder / "index.db", writable=writable))
        except BaseException:
            self.lock.release()
            raise
        self._write = threading.RLock()
        self.closed = False

    def _attach(self, store: SymbolStore) -> None:
        self.store = store
        self.symbols = SymbolSearch(store, self.root)
        self.vectors = VectorSide(store, self.root, self.folder, self.config, self.lock)
        self._search = HybridSearch(store, self.root, self.vectors)

    @classmethod
    def open(cls, root: Path, config: AtollConfig, **options: object) -> WorkspaceIndex:
        """Open the index of ``root`` (see the constructor's options).

        ``write=True`` (the default) makes this process the writer when no other one
        is (waiting up to ``wait_s``), creating the index folder; a damaged database
        is set aside and rebuilt. ``write=False`` only reads and never creates anything.
        """
        return cls(root, config, **options)  # type: ignore[arg-type]

    @property
    def writable(self) -> bool:
        return self.store.writable

    def promote(self) -> bool:
        """Become the writer if no other process is one now; True when this one is."""
        if self.writable:
            return True
        if not self.lock.acquire(0):
            self.writer = holder(self.folder)
            if self.store.unavailable and (self.folder / "index.db").exists():
                self._swap(SymbolStore(self.folder / "index.db", writable=False))
            return False
        try:
            store = SymbolStore(self.folder / "index.db", writable=True)
        except BaseException:
            self.lock.release()
            raise
        self._swap(store)
        self.writer = None
        return True

    def _swap(self, store: SymbolStore) -> None:
        old_store, old_vectors = self.store, self.vectors
        with self._write:
            self._attach(store)
        old_vectors.close()
        old_store.close()

    def read_only_reason(self) -> str:
        """Why this process does not write the index ("" when it does)."""
        if self.writable:
            return ""
        if self.writer is not None:
            return f"{self.writer.describe()} writes this index"
        return "opened read-only"

    def _need_writer(self) -> None:
        if not self.writable:
            raise ReadOnlyIndexError(self.read_only_reason())

    # -- paths -----------------------------------------------------------------------
    def relative(self, path: Path) -> str | None:
        """``path`` relative to the root (POSIX), or None when it lies outside."""
        try:
            return path.absolute().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def _settings(self) -> RunSettings:
        cfg = self.config.indexing
        return RunSettings(
            root=str(self.root),
            max_bytes=cfg.max_file_kb * 1024,
            chunk_tokens=cfg.chunk_tokens,
            line_windows=cfg.chunking == "lines",
            workers=cfg.workers,
            excludes=tuple(cfg.exclude),
            follow_links=cfg.follow_symlinks,
        )

    # -- writing ---------------------------------------------------------------------
    def index_all(self, progress: Progress | None = None) -> IndexStats:
        """Bring the index up to date with the files on disk.

        ``progress(done, total, path)`` per file, then ``phase="embedding"`` per chunk.
        """
        self._need_writer()
        started = time.perf_counter()
        with self._write:
            stats, removed = run_full(self.store, self._settings(), progress)
            self._sync_vectors(removed, stats, progress)
        counts = self.store.counts()
        stats.symbols, stats.chunks = counts["symbols"], counts["chunks"]
        stats.seconds = round(time.perf_counter() - started, 3)
        return stats

    def update_file(self, path: Path, text: str | None = None) -> None:
        """Re-index one file (from ``text`` when given, else from disk)."""
        rel = self.relative(path)
        if rel is None or storable(rel):
            return
        self._need_writer()
        with self._write:
            if text is None and not (self.root / rel).is_file():
                self.remove_file(path)
                return
            known = self.store.file_state(rel)
            facts = analyze_one(self._settings(), rel, known.hash if known else "", text)
            refs = writes.RefTally()
            stats = IndexStats()
            if facts.skipped or facts.state is None:
                removed = writes.remove_files(self.store, [rel], refs, apply_refs=True).chunks
            elif facts.unchanged:
                writes.touch_files(self.store, [(rel, facts.state)])
                return
            else:
                kept = {rel} if known else set()
                written = writes.write_files(self.store, [facts], refs, known=kept, apply_refs=True)
                removed = written.chunks
            self._sync_vectors(removed, stats, None)

    def remove_file(self, path: Path) -> None:
        """Forget everything about one file (or every file under a removed folder)."""
        rel = self.relative(path)
        if rel is None:
            return
        self._need_writer()
        with self._write:
            prefix = rel + "/"
            gone = [
                known
                for known in self.store.file_states()
                if known == rel or known.startswith(prefix) or rel == "."
            ]
            removed = writes.remove_files(self.store, gone, writes.RefTally(), apply_refs=True)
            self._sync_vectors(removed.chunks, IndexStats(), None)

    def _sync_vectors(
        self, removed: set[int], stats: IndexStats, progress: Progress | None
    ) -> None:
        try:
            stats.embedded += self.vectors.sync(removed, progress)
        except EmbeddingError as exc:
            stats.embed_error = str(exc)
            log.warning("embedding stopped (symbols and text search are complete): %s", exc)

    # -- reading ---------------------------------------------------------------------
    def find_symbols(self, query: str, limit: int = 50) -> list[Symbol]:
        """Fuzzy ``workspace/symbol`` search: exact > prefix > subsequence."""
        return self.symbols.find(query, limit)

    def symbols_in_file(self, path: Path, text: str | None = None) -> list[Symbol]:
        """The symbols of one file, in source order; ``text`` is an unsaved buffer."""
        rel = self.relative(path)
        if text is None and rel is not None:
            rows = self.store.query(
                f"SELECT {SYMBOL_COLUMNS} FROM {SYMBOL_FROM} WHERE f.path = ? ORDER BY s.id",
                (to_db(rel),),
            )
            if rows:
                return [row_to_symbol(self.root, r) for r in rows]
            if self.store.query("SELECT 1 FROM files WHERE path = ?", (to_db(rel),)):
                return []
        return parse_alone(path, text)

    def definitions(self, name: str) -> list[Symbol]:
        """Symbols named exactly ``name``, or whose qualified name ends with ``name``."""
        container, _, leaf = name.rpartition(".")
        rows = self.store.query(
            f"SELECT {SYMBOL_COLUMNS} FROM {SYMBOL_FROM} WHERE s.name = ? "
            "ORDER BY f.vendored, s.kind NOT IN (5, 23, 10, 11, 12, 6), f.path LIMIT 200",
            (leaf,),
        )
        found = [row_to_symbol(self.root, r) for r in rows]
        if container:
            found = [
                s
                for s in found
                if s.container == container or s.container.endswith("." + container)
            ]
        return found

    def hybrid(self) -> HybridSearch:
        return self._search

    def search(self, query: str, k: int = 10, **scope: Unpack[SearchScope]) -> list[SearchHit]:
        """Hybrid (lexical + vector, RRF) code search; lexical only without embeddings.

        ``mode="lexical"`` never touches the embedding model (a name's uses).
        """
        if language := scope.get("language"):
            scope["language"] = languages.normalize(language)
        return self._search.search(query, k, wait=not self.interactive, **scope)

    def outline(self, budget_tokens: int = 1024, focus: Sequence[Path] = ()) -> str:
        """A ranked repository map cut to ``budget_tokens``."""
        from atoll.indexing.outline import build_outline

        focus_rel = [r for r in (self.relative(p) for p in focus) if r]
        return build_outline(self.store, budget_tokens, focus_rel)

    def stats(self) -> dict[str, int]:
        return self.store.counts()

    def close(self) -> None:
        """Release the database, the vector store and the writer lock."""
        self.closed = True
        self.vectors.close()
        self.store.close()
        self.lock.release()


def parse_alone(path: Path, text: str | None = None) -> list[Symbol]:
    """The symbols of one file parsed directly (a buffer, or a file the index lacks)."""
    if text is None:
        try:
            text = path.read_text("utf-8", "replace")
        except OSError:
            return []
    data = text.encode("utf-8", "replace")
    language = languages.for_path(path).name
    symbols, _, _ = parse_text(
        path.absolute(), language, data, data.decode("utf-8"), chunks=False, chunk_tokens=0
    )
    return symbols
