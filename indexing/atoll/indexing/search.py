"""Hybrid code search: FTS5/BM25 over chunk text and symbol names, plus vectors, fused by RRF."""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path

from atoll.config import AtollConfig
from atoll.indexing.model import SearchHit
from atoll.indexing.store import SymbolStore
from atoll.indexing.vectors import (
    ClientVectorStore,
    EdgeVectorStore,
    VectorStore,
    collection_name,
    dir_prefixes,
    read_manifest,
    repository_name,
    write_manifest,
)

log = logging.getLogger(__name__)
RRF_K = 60
_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "be",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "it",
        "its",
        "if",
        "into",
        "return",
        "returns",
        "given",
    ]
)


def fts_query(text: str) -> str:
    """Any of the query's words (BM25 ranks documents holding more and rarer ones first)."""
    terms = [t.lower() for t in _TERM.findall(text)]
    terms = [t for t in dict.fromkeys(terms) if t not in _STOP] or terms[:1]
    return " OR ".join(f'"{t}"' for t in terms[:32])


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _normalize_prefix(prefix: str | None) -> str | None:
    if not prefix:
        return None
    cleaned = prefix.strip().removeprefix("./").strip("/")
    return cleaned or None


class HybridSearch:
    """The ``Retriever`` implementation behind ``WorkspaceIndex.search``."""

    def __init__(self, store: SymbolStore, root: Path, folder: Path, config: AtollConfig) -> None:
        self.store = store
        self.root = root
        self.folder = folder
        self.config = config
        self._vectors: VectorStore | None = None
        self._embedder: object | None = None
        self._lock = threading.RLock()
        self.vector_error = ""

    # -- vectors -------------------------------------------------------------------
    def _vector_side(self) -> tuple[VectorStore, object] | None:
        """The embedder and vector store, opened on first use; None when off or broken."""
        if not self.config.indexing.embeddings:
            return None
        with self._lock:
            if self._vectors is not None and self._embedder is not None:
                return self._vectors, self._embedder
            try:
                from atoll.indexing.embed import Embedder

                embedder = Embedder(self.config)
                dim = embedder.dim
                self._vectors = self._open_store(embedder.name, dim)
                self._embedder = embedder
            except Exception as exc:
                self.vector_error = f"{type(exc).__name__}: {exc}"
                log.warning("vector search unavailable, lexical only: %s", self.vector_error)
                return None
            return self._vectors, self._embedder

    def _open_store(self, model: str, dim: int) -> VectorStore:
        url = self.config.indexing.qdrant_url
        kind = "server" if url else "edge"
        folder = self.folder / "vectors"
        manifest = read_manifest(folder)
        collection = ""
        if url:
            repo = repository_name(self.root, self.config.indexing.repository)
            collection = collection_name(repo, model, dim)
        current = {"model": model, "dim": dim, "store": kind, "url": url, "collection": collection}
        rebuild = bool(manifest) and any(manifest.get(k) != v for k, v in current.items())
        if rebuild:
            log.warning(
                "the vectors were built with %s (%s-d, %s); now configured: %s (%s-d, %s): "
                "rebuilding the vectors",
                manifest.get("model"),
                manifest.get("dim"),
                manifest.get("store"),
                model,
                dim,
                kind,
            )
            shutil.rmtree(folder / "shard", ignore_errors=True)
        if rebuild or not manifest:
            self.store.reset_embedded()
        store: VectorStore
        if url:
            # Never recreated: the collection is the team's, and its name already
            # changes with the repository, the model and the dimension.
            store = ClientVectorStore(
                dim,
                url=url,
                api_key=self.config.indexing.qdrant_api_key,
                collection=collection,
                model=model,
            )
        else:
            store = EdgeVectorStore(folder / "shard", dim)
        write_manifest(folder, current)
        return store

    def sync(self, removed: set[int]) -> int:
        """Drop vectors of removed chunks; embed chunks not embedded yet. Returns how many."""
        side = self._vector_side()
        if side is None:
            return 0
        vectors, embedder = side
        from atoll.indexing.embed import Embedder

        assert isinstance(embedder, Embedder)
        vectors.delete(sorted(removed))
        done = 0
        while True:
            batch = self.store.pending_chunks(max(64, embedder.batch * 4))
            if not batch:
                break
            # Chunks a teammate already embedded on a shared server are reused.
            have = vectors.existing([row[0] for row in batch])
            if have:
                self.store.mark_embedded(have)
                batch = [row for row in batch if row[0] not in have]
                if not batch:
                    continue
            texts = [f"{symbol}\n{text}" if symbol else text for _, _, _, symbol, text in batch]
            embedded = embedder.embed(texts)
            vectors.upsert(
                [row[0] for row in batch],
                embedded,
                [
                    {"language": lang, "dirs": dir_prefixes(path), "kind": "chunk"}
                    for _, path, lang, _, _ in batch
                ],
            )
            self.store.mark_embedded(row[0] for row in batch)
            done += len(batch)
        return done

    # -- search --------------------------------------------------------------------
    def lexical(self, query: str, n: int, language: str | None, prefix: str | None) -> list[int]:
        match = fts_query(query)
        if not match:
            return []
        where, params = ["chunks_fts MATCH ?"], [match]
        if language:
            where.append("f.language = ?")
            params.append(language)
        if prefix:
            where.append("(f.path = ? OR f.path LIKE ? ESCAPE '\\')")
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [prefix, escaped + "/%"]
        sql = (
            "SELECT c.id FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            f"JOIN files f ON f.id = c.file_id WHERE {' AND '.join(where)} "
            f"ORDER BY bm25(chunks_fts, 1.0, 0.5, 2.0) LIMIT {int(n)}"
        )
        try:
            return [int(r[0]) for r in self.store.query(sql, params)]
        except Exception as exc:  # a query FTS5 cannot parse finds nothing
            log.debug("lexical search failed for %r: %s", query, exc)
            return []

    def vector(self, query: str, n: int, language: str | None, prefix: str | None) -> list[int]:
        side = self._vector_side()
        if side is None:
            return []
        vectors, embedder = side
        from atoll.indexing.embed import Embedder

        assert isinstance(embedder, Embedder)
        [vec] = embedder.embed([query])
        try:
            found = vectors.query(vec, n, language=language, path_prefix=prefix)
        except Exception as exc:  # the store's files vanished or broke under us
            self._drop_vectors(exc)
            return []
        return [i for i, _ in found]

    def _drop_vectors(self, exc: Exception) -> None:
        """Forget a broken vector store: lexical search goes on, the next use reopens it."""
        self.vector_error = f"{type(exc).__name__}: {exc}"
        log.warning("vector store failed, lexical only until it reopens: %s", self.vector_error)
        with self._lock:
            store, self._vectors = self._vectors, None
        if store is not None:
            try:
                store.close()
            except Exception as close_exc:
                log.debug("closing the broken vector store: %s", close_exc)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        path_prefix: str | None = None,
        mode: str = "hybrid",
    ) -> list[SearchHit]:
        if not query.strip() or k <= 0:
            return []
        prefix = _normalize_prefix(path_prefix)
        depth = max(k * 4, 40)
        rankings = []
        if mode in ("hybrid", "lexical"):
            rankings.append(self.lexical(query, depth, language, prefix))
        if mode in ("hybrid", "vector"):
            rankings.append(self.vector(query, depth, language, prefix))
        return self._hits(rrf([r for r in rankings if r])[: k * 2], k)

    def _hits(self, fused: list[tuple[int, float]], k: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        for cid, score in fused:
            rows = self.store.query(
                "SELECT f.path, f.language, c.sl, c.el, t.text, c.symbol FROM chunks c "
                "JOIN files f ON f.id = c.file_id JOIN chunks_fts t ON t.rowid = c.id "
                "WHERE c.id = ?",
                (cid,),
            )
            if not rows:
                continue  # a vector left behind by an interrupted run
            path, lang, sl, el, text, symbol = rows[0]
            hits.append(
                SearchHit(
                    self.root / str(path),
                    str(lang),
                    int(sl),
                    int(el),
                    str(text),
                    str(symbol),
                    round(score, 6),
                )
            )
            if len(hits) >= k:
                break
        return hits

    def close(self) -> None:
        with self._lock:
            store, self._vectors = self._vectors, None
        if store is not None:
            try:
                store.close()
            except Exception as exc:  # e.g. its folder was deleted while we ran
                log.warning("vector store did not close cleanly: %s", exc)
