"""``WorkspaceIndex``: the one object completion, hover, agents and the server talk to."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from atoll.config import AtollConfig
from atoll.indexing.analyze import FileFacts, analyze, parse_text
from atoll.indexing.files import walk
from atoll.indexing.languages import language_for, normalize_language
from atoll.indexing.lookup import SymbolSearch, row_to_symbol
from atoll.indexing.model import IndexStats, SearchHit, Symbol
from atoll.indexing.store import SYMBOL_COLUMNS, SYMBOL_FROM, SymbolStore

if TYPE_CHECKING:
    from atoll.indexing.search import HybridSearch

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
PARALLEL_FROM = 64  # files to parse before worker processes pay for their start-up


def index_dir(root: Path, config: AtollConfig) -> Path:
    folder = Path(os.path.expanduser(config.indexing.index_dir))
    return folder if folder.is_absolute() else root / folder


class WorkspaceIndex:
    """Symbols, chunks and vectors of one workspace folder. Every method is thread-safe."""

    def __init__(self, root: Path, config: AtollConfig) -> None:
        self.root = root.absolute()
        self.config = config
        self.folder = index_dir(self.root, config)
        self.store = SymbolStore(self.folder / "index.db")
        self.symbols = SymbolSearch(self.store, self.root)
        self._write = threading.RLock()
        self._search: HybridSearch | None = None
        self._search_lock = threading.Lock()
        self.closed = False

    @classmethod
    def open(cls, root: Path, config: AtollConfig) -> WorkspaceIndex:
        """Open (or create) the index of ``root``; a corrupt database is set aside and rebuilt."""
        return cls(root, config)

    # -- paths -----------------------------------------------------------------------
    def relative(self, path: Path) -> str | None:
        """``path`` relative to the root (POSIX), or None when it lies outside."""
        try:
            return path.absolute().relative_to(self.root).as_posix()
        except ValueError:
            return None

    @property
    def _max_bytes(self) -> int:
        return self.config.indexing.max_file_kb * 1024

    def _analyze(self, relative: str, known: str = "", text: str | None = None) -> FileFacts:
        return analyze(
            self.root,
            relative,
            max_bytes=self._max_bytes,
            chunk_tokens=self.config.indexing.chunk_tokens,
            known_hash=known,
            text=text,
            line_windows=self.config.indexing.chunking == "lines",
        )

    # -- writing ---------------------------------------------------------------------
    def index_all(self, progress: Progress | None = None) -> IndexStats:
        """Bring the index up to date with the files on disk; ``progress(done, total, path)``."""
        started = time.perf_counter()
        stats = IndexStats()
        with self._write:
            known = self.store.file_states()
            found = list(
                walk(
                    self.root,
                    self.config.indexing.exclude,
                    follow_links=self.config.indexing.follow_symlinks,
                )
            )
            stats.files = len(found)
            todo: list[tuple[str, str]] = []
            seen: set[str] = set()
            for path in found:
                rel = self.relative(path)
                if rel is None:
                    continue
                seen.add(rel)
                state = known.get(rel)
                try:
                    st = path.stat()
                except OSError:
                    continue
                if (
                    state is not None
                    and state.mtime_ns == st.st_mtime_ns
                    and state.size == st.st_size
                ):
                    stats.unchanged += 1
                    continue
                todo.append((rel, state.hash if state else ""))
            gone = sorted(set(known) - seen)
            removed_chunks: set[int] = set()
            if todo or gone:
                self.store.set_meta("refs_dirty", "1")
            for rel in gone:
                removed_chunks |= self.store.remove_file(rel, update_ref_counts=False)
                stats.removed += 1
            total = len(todo)
            if progress:
                progress(0, total, "")
            self.store.bulk = True
            try:
                for i, facts in enumerate(self._analyze_many(todo)):
                    removed_chunks |= self._store_facts(facts, stats, update_refs=False)
                    if progress:
                        progress(i + 1, total, facts.relative)
            finally:
                self.store.bulk = False
            if self.store.get_meta("refs_dirty") == "1":
                self.store.rebuild_ref_counts()
            self._vectors_sync(removed_chunks, stats)
        counts = self.store.counts()
        stats.symbols, stats.chunks = counts["symbols"], counts["chunks"]
        stats.seconds = round(time.perf_counter() - started, 3)
        return stats

    def _analyze_many(self, todo: list[tuple[str, str]]) -> Iterable[FileFacts]:
        workers = self.config.indexing.workers or (os.cpu_count() or 1)
        if len(todo) < PARALLEL_FROM or workers < 2:
            for rel, known in todo:
                yield self._analyze(rel, known)
            return
        import multiprocessing

        pool: Executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        try:
            yield from pool.map(
                _analyze_job,
                [
                    (
                        str(self.root),
                        rel,
                        known,
                        self._max_bytes,
                        self.config.indexing.chunk_tokens,
                        self.config.indexing.chunking == "lines",
                    )
                    for rel, known in todo
                ],
                chunksize=16,
            )
        finally:
            pool.shutdown(cancel_futures=True)

    def _store_facts(self, facts: FileFacts, stats: IndexStats, *, update_refs: bool) -> set[int]:
        if facts.skipped or facts.state is None:
            stats.skipped += 1
            return self.store.remove_file(facts.relative, update_ref_counts=update_refs)
        if facts.unchanged:
            stats.unchanged += 1
            self.store.touch_file(facts.relative, facts.state)
            return set()
        if facts.error:
            stats.failed += 1
            stats.errors.append(f"{facts.relative}: {facts.error}")
        stats.indexed += 1
        removed, _ = self.store.replace_file(
            facts.relative,
            facts.language,
            facts.state,
            facts.vendored,
            facts.symbols,
            facts.chunks,
            facts.refs,
            update_ref_counts=update_refs,
            chunk_words=facts.chunk_words if len(facts.chunk_words) == len(facts.chunks) else None,
        )
        return removed

    def update_file(self, path: Path, text: str | None = None) -> None:
        """Re-index one file (from ``text`` when given, else from disk)."""
        rel = self.relative(path)
        if rel is None:
            return
        with self._write:
            if text is None and not (self.root / rel).is_file():
                self.remove_file(path)
                return
            known = self.store.file_state(rel)
            facts = self._analyze(rel, known.hash if known else "", text)
            stats = IndexStats()
            removed = self._store_facts(facts, stats, update_refs=True)
            self._vectors_sync(removed, stats)

    def remove_file(self, path: Path) -> None:
        """Forget everything about one file (or every file under a removed folder)."""
        rel = self.relative(path)
        if rel is None:
            return
        with self._write:
            removed: set[int] = set()
            prefix = rel + "/"
            for known in self.store.file_states():
                if known == rel or known.startswith(prefix) or rel == ".":
                    removed |= self.store.remove_file(known)
            self._vectors_sync(removed, IndexStats())

    def _vectors_sync(self, removed: set[int], stats: IndexStats) -> None:
        if not self.config.indexing.embeddings:
            return
        search = self.hybrid()
        stats.embedded += search.sync(removed)

    # -- reading ---------------------------------------------------------------------
    def find_symbols(self, query: str, limit: int = 50) -> list[Symbol]:
        """Fuzzy ``workspace/symbol`` search: exact > prefix > subsequence."""
        return self.symbols.find(query, limit)

    def symbols_in_file(self, path: Path, text: str | None = None) -> list[Symbol]:
        """The symbols of one file, in source order; ``text`` is an unsaved buffer."""
        rel = self.relative(path)
        if text is None and rel is not None:
            rows = self.store.query(
                f"SELECT {SYMBOL_COLUMNS} FROM {SYMBOL_FROM} WHERE f.path = ? ORDER BY s.id", (rel,)
            )
            if rows:
                return [row_to_symbol(self.root, r) for r in rows]
            if self.store.query("SELECT 1 FROM files WHERE path = ?", (rel,)):
                return []
        if text is None:
            try:
                text = path.read_text("utf-8", "replace")
            except OSError:
                return []
        language = language_for(path)
        symbols, _, _ = parse_text(
            path.absolute(),
            language,
            text.encode("utf-8", "surrogatepass"),
            text,
            chunks=False,
            chunk_tokens=0,
        )
        return symbols

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
        with self._search_lock:
            if self._search is None:
                from atoll.indexing.search import HybridSearch

                self._search = HybridSearch(self.store, self.root, self.folder, self.config)
            return self._search

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        path_prefix: str | None = None,
    ) -> list[SearchHit]:
        """Hybrid (lexical + vector, RRF) code search; lexical only without embeddings."""
        lang = normalize_language(language) if language else None
        return self.hybrid().search(query, k, language=lang, path_prefix=path_prefix)

    def outline(self, budget_tokens: int = 1024, focus: Sequence[Path] = ()) -> str:
        """A ranked repository map cut to ``budget_tokens``."""
        from atoll.indexing.outline import build_outline

        focus_rel = [r for r in (self.relative(p) for p in focus) if r]
        return build_outline(self.store, budget_tokens, focus_rel)

    def stats(self) -> dict[str, int]:
        return self.store.counts()

    def close(self) -> None:
        """Release the database and the vector store."""
        self.closed = True
        with self._search_lock:
            if self._search is not None:
                self._search.close()
                self._search = None
        self.store.close()


def _analyze_job(job: tuple[str, str, str, int, int, bool]) -> FileFacts:
    root, rel, known, max_bytes, chunk_tokens, line_windows = job
    return analyze(
        Path(root),
        rel,
        max_bytes=max_bytes,
        chunk_tokens=chunk_tokens,
        known_hash=known,
        line_windows=line_windows,
    )
