"""A full run: bring the index up to date with the files on disk.

Walk (one ``lstat`` per entry), compare size and mtime with what the index holds,
parse the changed files in worker processes, and write them a batch per transaction.
Odd files (FIFOs, unreadable, vanished, unstorable names) are passed over with one
log line each; they never fail the run.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from atoll import languages
from atoll.indexing import writes
from atoll.indexing.analyze import FileFacts, FileState, analyze
from atoll.indexing.files import shown, storable, walk
from atoll.indexing.model import IndexStats, Progress
from atoll.indexing.store import SymbolStore

log = logging.getLogger(__name__)
PARALLEL_FROM = 64  # files to parse before worker processes pay for their start-up
BATCH_FILES = 256  # files per transaction ...
BATCH_S = 1.0  # ... or this long, whichever comes first (readers see progress)
GROUP = 16  # files per worker job


@dataclass(frozen=True)
class RunSettings:
    """What parsing a file needs to know (sent to worker processes)."""

    root: str
    max_bytes: int
    chunk_tokens: int
    line_windows: bool
    workers: int
    excludes: tuple[str, ...]
    follow_links: bool


def run_full(
    store: SymbolStore, settings: RunSettings, progress: Progress | None = None
) -> tuple[IndexStats, set[int]]:
    """Update ``store`` from disk; returns the statistics and the chunk ids removed."""
    stats = IndexStats()
    root = Path(settings.root)
    known = store.file_states()
    todo: list[tuple[str, str]] = []
    seen: set[str] = set()

    skip = functools.partial(_skipped, stats)
    for rel, st in walk(root, settings.excludes, follow_links=settings.follow_links, skipped=skip):
        stats.files += 1
        if why := storable(rel):
            skip(rel, why)
            continue
        seen.add(rel)
        state = known.get(rel)
        if state is not None and (state.mtime_ns, state.size) == (st.st_mtime_ns, st.st_size):
            stats.unchanged += 1
            continue
        todo.append((rel, state.hash if state else ""))
    gone = sorted(set(known) - seen)
    refs = writes.RefTally()
    interrupted = store.get_meta("refs_dirty") == "1"
    if todo or gone:
        store.set_meta("refs_dirty", "1")
    removed = writes.remove_files(store, gone, refs).chunks
    stats.removed = len(gone)
    if progress:
        progress(0, len(todo), "")
    store.bulk = True
    try:
        removed |= _write_all(store, settings, todo, set(known), refs, stats, progress)
    finally:
        store.bulk = False
    if interrupted:
        writes.rebuild_ref_counts(store)  # the totals of an interrupted run are unknown
    elif refs.delta:
        with store.write() as conn:
            refs.apply(conn)
    if todo or gone or interrupted:
        store.set_meta("refs_dirty", "0")
    return stats, removed


def _write_all(
    store: SymbolStore,
    settings: RunSettings,
    todo: list[tuple[str, str]],
    known: set[str],
    refs: writes.RefTally,
    stats: IndexStats,
    progress: Progress | None,
) -> set[int]:
    removed: set[int] = set()
    changed: list[FileFacts] = []
    touched: list[tuple[str, FileState]] = []
    dropped: list[str] = []
    flushed = time.monotonic()

    def flush() -> None:
        nonlocal flushed
        if changed:
            removed.update(writes.write_files(store, changed, refs, known=known).chunks)
        if touched:
            writes.touch_files(store, touched)
        if dropped:
            removed.update(writes.remove_files(store, dropped, refs).chunks)
        changed.clear()
        touched.clear()
        dropped.clear()
        flushed = time.monotonic()

    for done, facts in enumerate(analyze_many(settings, todo), 1):
        if facts.skipped or facts.state is None:
            _skipped(stats, facts.relative, facts.skipped)
            if facts.relative in known:
                dropped.append(facts.relative)
        elif facts.unchanged:
            stats.unchanged += 1
            touched.append((facts.relative, facts.state))
        else:
            stats.indexed += 1
            if facts.error:
                stats.failed += 1
                stats.errors.append(f"{shown(facts.relative)}: {facts.error}")
            changed.append(facts)
        if len(changed) >= BATCH_FILES or time.monotonic() - flushed >= BATCH_S:
            flush()
        if progress:
            progress(done, len(todo), facts.relative)
    flush()
    return removed


def _skipped(stats: IndexStats, relative: str, why: str) -> None:
    """A file the run passes over: counted, noted for the summary, logged."""
    stats.skipped += 1
    stats.notes.append(f"{shown(relative)}: {why}")
    log.info("skipped %s: %s", shown(relative), why)


def analyze_one(
    settings: RunSettings, relative: str, known: str = "", text: str | None = None
) -> FileFacts:
    """One file's facts under ``settings`` (``text``: an unsaved buffer)."""
    return analyze(
        Path(settings.root),
        relative,
        max_bytes=settings.max_bytes,
        chunk_tokens=settings.chunk_tokens,
        known_hash=known,
        text=text,
        line_windows=settings.line_windows,
    )


def analyze_many(settings: RunSettings, todo: list[tuple[str, str]]) -> Iterator[FileFacts]:
    """Facts of every file in order: in worker processes for a large ``todo``."""
    workers = settings.workers or (os.cpu_count() or 1)
    if len(todo) < PARALLEL_FROM or workers < 2:
        yield from (analyze_one(settings, rel, known) for rel, known in todo)
        return
    import multiprocessing

    done = 0
    with _safe_spawn():
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(languages.added(), _workspace_paths(settings.root)),
        )
        groups = [todo[i : i + GROUP] for i in range(0, len(todo), GROUP)]
        results: Iterable[list[FileFacts]] = pool.map(
            _analyze_group, [(settings, group) for group in groups]
        )
    try:
        for group in results:
            for facts in group:
                done += 1
                yield facts
    except BrokenProcessPool as exc:
        # A worker died (out of memory, a grammar crash): the rest is parsed here.
        log.warning("a parsing process failed (%s); parsing the rest in this process", exc)
        yield from (analyze_one(settings, rel, known) for rel, known in todo[done:])
    finally:
        pool.shutdown(cancel_futures=True)


_spawn_lock = threading.Lock()


@contextmanager
def _safe_spawn() -> Iterator[None]:
    """Start workers whose interpreter does not put the current folder first on sys.path.

    A spawned worker begins with ``python -c "from multiprocessing.spawn import ..."``,
    which imports from the current folder first: a workspace holding a folder named
    like a standard-library module (``multiprocessing/``) would replace it.
    ``PYTHONSAFEPATH`` stops that; it is set only while the workers start.
    """
    with _spawn_lock:
        before = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("PYTHONSAFEPATH", None)
            else:
                os.environ["PYTHONSAFEPATH"] = before


def _workspace_paths(root: str) -> tuple[str, ...]:
    """Entries of sys.path that would import from the workspace (``python -m`` run there)."""
    return ("", os.path.realpath(root))


def _worker_start(added: tuple[languages.Language, ...], drop: tuple[str, ...]) -> None:
    sys.path[:] = [p for p in sys.path if p != "" and os.path.realpath(p) not in drop]
    languages.install(added)


def _analyze_group(job: tuple[RunSettings, list[tuple[str, str]]]) -> list[FileFacts]:
    """A worker's share: several files, their reference counts summed here.

    The first file that will be written carries the whole group's counts (the others
    none), so the single writer adds one table per group instead of one per file.
    """
    settings, items = job
    group = [analyze_one(settings, rel, known) for rel, known in items]
    written = [f for f in group if f.state is not None and not f.skipped and not f.unchanged]
    if len(written) > 1:
        total: Counter[str] = Counter()
        for facts in written:
            total.update(facts.refs)
            facts.refs = {}
        written[0].refs = dict(total)
    return group
