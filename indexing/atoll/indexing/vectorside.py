"""The vector half of an index: its embedder and vector store, opened only when needed.

Nothing here loads a model or opens a store until a chunk needs embedding or a
vector query arrives: an index whose chunks are all embedded opens with SQLite alone.
An interactive caller (the editor) never waits for the model either: its first vector
query starts loading in the background and is answered lexically meanwhile.

The embedded store (Qdrant Edge) belongs to the index folder's writer. A process that
only reads borrows the writer lock for it when nobody holds it, and otherwise searches
lexically and says why. A Qdrant server needs no lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atoll.config import AtollConfig
from atoll.indexing.aside import set_aside
from atoll.indexing.chunks import MAX_VIEWS, embedding_views
from atoll.indexing.embed import Embedder, EmbeddingError, make_embedder, pipelined
from atoll.indexing.files import to_db
from atoll.indexing.lock import WriterLock, holder
from atoll.indexing.model import Progress
from atoll.indexing.store import SymbolStore
from atoll.indexing.vectors import (
    ClientVectorStore,
    EdgeVectorStore,
    VectorStore,
    VectorStoreBusy,
    collection_name,
    dir_prefixes,
    read_manifest,
    repository_name,
    view_ids,
    write_manifest,
)

log = logging.getLogger(__name__)
PendingChunk = tuple[int, str, str, str, str, int]  # see SymbolStore.pending_chunks
# Pending chunks with what is embedded of each (chunk_views): the texts sent to the
# model and the points stored come from the one list.
Batch = list[tuple[PendingChunk, list[str]]]


class VectorSide:
    def __init__(
        self, store: SymbolStore, root: Path, folder: Path, config: AtollConfig, lock: WriterLock
    ) -> None:
        self.store = store
        self.root = root
        self.folder = folder
        self.config = config
        self.lock = lock
        self.error = ""  # why vector search is off right now ("" when it is not)
        self._embedder: Embedder | None = None
        self._vectors: VectorStore | None = None
        self._lock = threading.RLock()
        self._loader: threading.Thread | None = None
        self.closed = False

    @property
    def enabled(self) -> bool:
        return self.config.indexing.embeddings

    def embedder(self) -> Embedder | None:
        with self._lock:
            if self._embedder is None and not self.closed:
                try:
                    self._embedder = make_embedder(self.config)
                except Exception as exc:  # no model installed, a bad endpoint URL
                    self._fail(f"{type(exc).__name__}: {exc}")
            return self._embedder

    def _fail(self, error: str) -> None:
        if error != self.error:
            log.warning("vector search unavailable, lexical only: %s", error)
        self.error = error

    # -- opening -------------------------------------------------------------------
    def _current(self, embedder: Embedder, dim: int) -> dict[str, object]:
        url = self.config.indexing.qdrant_url
        collection = ""
        if url:
            repo = repository_name(self.root, self.config.indexing.repository)
            collection = collection_name(repo, embedder.name, dim)
        kind = "server" if url else "edge"
        return {"model": embedder.name, "dim": dim, "store": kind, "url": url,
                "collection": collection}  # fmt: skip

    def vectors(self, *, create: bool) -> VectorStore | None:
        """The vector store (opened now if needed); None when absent, off or unusable.

        ``create``: build it (and load the model for its dimension) when the index has
        none yet, or has one built with another model (set aside, then rebuilt).
        """
        with self._lock:
            if self._vectors is not None or self.closed:
                return self._vectors
            embedder = self.embedder()
            if embedder is None:
                return None
            try:
                self._vectors = self._open(embedder, create)
            except EmbeddingError as exc:
                self._fail(str(exc))
            except VectorStoreBusy:
                self._fail(self._busy_note())
            except Exception as exc:
                self._fail(f"{type(exc).__name__}: {exc}")
            if self._vectors is not None:
                self.error = ""
            return self._vectors

    def _open(self, embedder: Embedder, create: bool) -> VectorStore | None:
        folder = self.folder / "vectors"
        manifest = read_manifest(folder)
        dim = int(manifest.get("dim", 0) or 0) if manifest.get("model") == embedder.name else 0
        if create and dim and embedder.dim != dim:
            dim = 0  # about to embed, so the model is loaded: the same name, another size
        current = self._current(embedder, dim) if dim else {}
        if not current or current != manifest:
            if not create:
                return None  # nothing built with this configuration yet
            if not self.store.writable:
                raise EmbeddingError(
                    "the vectors were built with another model or store; "
                    "`atoll index` rebuilds them"
                )
            current = self._current(embedder, embedder.dim)
            if manifest:
                self._replace(folder, manifest, current)
            self.store.reset_embedded()
        store: VectorStore
        if current["url"]:
            store = ClientVectorStore(
                int(str(current["dim"])),
                url=str(current["url"]),
                api_key=self.config.indexing.qdrant_api_key,
                collection=str(current["collection"]),
                model=embedder.name,
            )
        else:
            if not self.lock.held and not (folder.exists() and self.lock.acquire(0)):
                raise VectorStoreBusy()
            repair = self.store.writable
            store = EdgeVectorStore(folder / "shard", int(str(current["dim"])), repair=repair)
        if self.store.writable:
            write_manifest(folder, current)
        return store

    def _replace(self, folder: Path, old: dict[str, object], new: dict[str, object]) -> None:
        log.warning(
            "the vectors were built with %s (%s-d, %s); now configured: %s (%s-d, %s): "
            "rebuilding them",
            old.get("model"), old.get("dim"), old.get("store"),
            new["model"], new["dim"], new["store"],
        )  # fmt: skip
        shard = folder / "shard"
        if shard.exists():
            aside = set_aside(shard, "replaced")
            log.warning("the old vectors are kept in %s (delete it when done with them)", aside)

    def _other_model(self) -> bool:
        """The vectors were built with another model or store than configured now (a
        comparison of names: nothing is loaded)."""
        manifest = read_manifest(self.folder / "vectors")
        embedder = self.embedder() if manifest else None
        if not manifest or embedder is None:
            return False
        url = self.config.indexing.qdrant_url
        wanted = (embedder.name, "server" if url else "edge", url)
        return (manifest.get("model"), manifest.get("store"), manifest.get("url")) != wanted

    def _lost(self) -> bool:
        """Chunks are marked embedded but their vectors' folder is gone (deleted by hand)."""
        folder = self.folder / "vectors"
        present = (folder / "manifest.json").exists() and (
            bool(self.config.indexing.qdrant_url) or (folder / "shard").exists()
        )
        return not present and bool(
            self.store.query("SELECT 1 FROM chunks WHERE embedded = 1 LIMIT 1")
        )

    def _busy_note(self) -> str:
        who = holder(self.folder)
        by = who.describe() if who else "another process"
        return f"the vector store is in use by {by}"

    # -- embedding -----------------------------------------------------------------
    def sync(self, removed: set[int], progress: Progress | None = None) -> int:
        """Drop vectors of removed chunks; embed chunks not embedded yet. Returns how many.

        Raises :class:`EmbeddingError` when embedding stops (the chunks stay pending).
        """
        if not self.enabled:
            return 0
        if self._vectors is None and self._lost():
            log.warning("the vectors of %s are gone: embedding every chunk again", self.root)
            self.store.reset_embedded()
        total = self.store.pending_count()
        if not total and self._other_model():
            self.store.reset_embedded()  # models.embedding changed: embed everything again
            total = self.store.pending_count()
        if not removed and not total:
            return 0  # nothing to do: no model is loaded
        vectors = self.vectors(create=bool(total))
        if vectors is None:
            if total:
                raise EmbeddingError(self.error or "no vector store")
            return 0
        if removed:
            vectors.delete([v for cid in sorted(removed) for v in view_ids(cid, MAX_VIEWS)])
        embedder = self.embedder()
        if not total or embedder is None:
            return 0
        done = 0
        if progress:
            progress(0, total, "", phase="embedding")
        for batch, embedded in pipelined(embedder, self._batches(vectors, embedder), _texts):
            ids, payloads = _points(batch)
            vectors.upsert(ids, embedded, payloads)
            self.store.mark_embedded(row[0] for row, _ in batch)
            done += len(batch)
            if progress:
                progress(min(done, total), total, "", phase="embedding")
        return done

    def _batches(self, vectors: VectorStore, embedder: Embedder) -> Iterator[Batch]:
        after = -1
        while not self.closed:
            rows = self.store.pending_chunks(embedder.batch * 8, after)
            if not rows:
                return
            after = rows[-1][5]
            # Chunks a teammate already embedded on a shared server are reused.
            have = vectors.existing([row[0] for row in rows])
            if have:
                self.store.mark_embedded(have)
                rows = [row for row in rows if row[0] not in have]
            for i in range(0, len(rows), embedder.batch):
                yield [(row, chunk_views(row[3], row[4])) for row in rows[i : i + embedder.batch]]

    # -- querying ------------------------------------------------------------------
    def query(
        self, text: str, n: int, language: str | None, prefix: str | None, *, wait: bool
    ) -> list[int]:
        """Chunk ids nearest to ``text``; [] when vectors are off, absent or still loading."""
        if not self.enabled:
            return []
        embedder = self.embedder()
        if embedder is None:
            return []
        if not wait and not embedder.loaded:
            self._load_in_background(embedder)
            return []
        vectors = self.vectors(create=False)
        if vectors is None:
            return []
        try:
            [vec] = embedder.embed([text])
            where = to_db(prefix) if prefix else None  # payloads hold the stored spelling
            # Every view of one chunk may be near: enough points for ``n`` chunks.
            found = vectors.query(vec, n * MAX_VIEWS, language=language, path_prefix=where)
        except EmbeddingError as exc:
            self._fail(str(exc))
            return []
        except Exception as exc:  # the store's files vanished or broke under us
            self._drop(exc)
            return []
        return list(dict.fromkeys(i for i, _ in found))[:n]

    def _load_in_background(self, embedder: Embedder) -> None:
        with self._lock:
            if self._loader is not None and self._loader.is_alive():
                return

            def load() -> None:
                try:
                    _ = embedder.dim
                    self.vectors(create=False)
                except Exception as exc:
                    self._fail(f"{type(exc).__name__}: {exc}")

            self._loader = threading.Thread(target=load, name="atoll-embed-load", daemon=True)
            self._loader.start()

    def _drop(self, exc: Exception) -> None:
        """Forget a broken vector store: lexical search goes on, the next use reopens it."""
        self._fail(f"{type(exc).__name__}: {exc}")
        with self._lock:
            store, self._vectors = self._vectors, None
        if store is not None:
            try:
                store.close()
            except Exception as close_exc:
                log.debug("closing the broken vector store: %s", close_exc)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            store, self._vectors = self._vectors, None
            embedder, self._embedder = self._embedder, None
        if store is not None:
            try:
                store.close()
            except Exception as exc:  # e.g. its folder was deleted while we ran
                log.warning("vector store did not close cleanly: %s", exc)
        if embedder is not None:
            embedder.close()


def chunk_views(context: str, text: str) -> list[str]:
    """What is embedded of one chunk, per view: its context line (file, enclosing
    signatures, the names it defines), then that part of its text."""
    return [f"{context}\n{view}" if context else view for view in embedding_views(text)]


def _texts(batch: Batch) -> list[str]:
    return [view for _, views in batch for view in views]


def _points(batch: Batch) -> tuple[list[int], list[dict[str, Any]]]:
    """Point ids and payloads for ``_texts(batch)``, in the same order."""
    ids: list[int] = []
    payloads: list[dict[str, Any]] = []
    for (cid, path, lang, _, _, _), views in batch:
        base = {"language": lang, "dirs": dir_prefixes(path), "kind": "chunk"}
        for n, point in enumerate(view_ids(cid, len(views))):
            ids.append(point)
            payloads.append({**base, "chunk": cid} if n else base)
    return ids, payloads
