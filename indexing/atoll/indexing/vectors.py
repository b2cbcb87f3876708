"""The vector store behind one small interface: Qdrant Edge in-process, or a Qdrant server.

Points carry a chunk id and payload ``language``, ``dirs`` (every folder prefix of the
path, plus the path) and ``kind``; filters are keyword matches on those, which both
backends index the same way. A chunk may have several points, one per embedding view
(see ``view_ids``); a query answers chunk ids.

A Qdrant server is shared by a team. Chunk ids are content-addressed (path, text,
occurrence), so every clone of a repository computes the same id for the same chunk:
one collection per repository and embedding model holds them all, a chunk a teammate
already embedded is reused instead of embedded again, and nobody deletes points
(another clone may still have that chunk); each laptop keeps only the hits whose ids
its own working tree has.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, Unpack

from atoll.codeindex import Scope
from atoll.indexing.aside import set_aside

log = logging.getLogger(__name__)
COLLECTION = "atoll_chunks"
Vectors = Sequence[Sequence[float]]
Payloads = Sequence[dict[str, Any]]  # language, dirs (folder prefixes), kind


def repository_name(root: Path, configured: str = "") -> str:
    """The repository's shared name: configured, else git's ``origin`` URL, else the folder."""
    if configured:
        return configured
    try:
        config = (root / ".git" / "config").read_text(errors="replace")
        match = re.search(r'\[remote "origin"\][^\[]*?url\s*=\s*(\S+)', config)
        if match:
            url = re.sub(r"\.git$", "", match.group(1).rstrip("/"))
            return re.split(r"[/:]", url)[-1] + "-" + hashlib.sha1(url.encode()).hexdigest()[:8]
    except OSError:
        pass
    return root.name


def collection_name(repository: str, model: str, dim: int) -> str:
    """``atoll_<repo>_<model>_<dim>``: clones of one repository with one model share it."""

    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "x"

    return f"atoll_{slug(repository)}_{slug(Path(model).name)}_{dim}"


def dir_prefixes(relative: str) -> list[str]:
    parts = relative.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))] + [relative]


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[int], vectors: Vectors, payloads: Payloads) -> None: ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def existing(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` already have a vector (computed by this or another clone)."""
        ...

    def query(
        self, vector: Sequence[float], k: int, **scope: Unpack[Scope]
    ) -> list[tuple[int, float]]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


class VectorStoreBusy(RuntimeError):
    """Another process has the embedded vector store open: not damage, never repaired."""


class EdgeVectorStore:
    """Qdrant Edge: Qdrant's engine in-process, a shard folder under the index folder.

    A shard is one process's at a time (its WAL is locked). One that is locked raises
    :class:`VectorStoreBusy`; one that fails to load for any other reason is set aside
    (renamed ``shard.unusable-<time>``, never deleted) and rebuilt when ``repair``.
    """

    def __init__(self, folder: Path, dim: int, *, repair: bool = True) -> None:
        import qdrant_edge as q

        self.q = q
        config = q.EdgeConfig(vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine))
        if folder.exists() and any(folder.iterdir()):
            try:
                self.shard = q.EdgeShard.load(str(folder))
            except Exception as exc:
                if "WouldBlock" in str(exc):
                    raise VectorStoreBusy(
                        f"the vector store {folder} is open in another process"
                    ) from exc
                if not repair:
                    raise
                aside = set_aside(folder, "unusable")
                log.warning(
                    "vector shard %s is unusable (%s): set aside as %s, rebuilding",
                    folder,
                    exc,
                    aside.name,
                )
                self.shard = q.EdgeShard.create(str(folder), config)
        else:
            self.shard = q.EdgeShard.create(str(folder), config)
        for field in ("language", "dirs", "kind"):
            self.shard.update(
                q.UpdateOperation.create_field_index(field, q.PayloadSchemaType.Keyword)
            )

    def upsert(self, ids: Sequence[int], vectors: Vectors, payloads: Payloads) -> None:
        points = [
            self.q.Point(i, list(v), p) for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self.shard.update(self.q.UpdateOperation.upsert_points(points))

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            self.shard.update(self.q.UpdateOperation.delete_points(list(ids)))

    def query(
        self, vector: Sequence[float], k: int, **scope: Unpack[Scope]
    ) -> list[tuple[int, float]]:
        q = self.q
        must = [q.FieldCondition(key, match=q.MatchValue(value)) for key, value in _matches(scope)]
        request = q.QueryRequest(
            limit=k,
            query=q.Query.Nearest(list(vector)),
            filter=q.Filter(must=must) if must else None,
            with_payload=["chunk"],
        )
        return [(_chunk_of(p.id, p.payload), float(p.score)) for p in self.shard.query(request)]

    def existing(self, ids: Sequence[int]) -> set[int]:
        return set()  # in-process: SQLite's "embedded" flag already knows

    def count(self) -> int:
        return int(self.shard.count(self.q.CountRequest()))

    def close(self) -> None:
        try:
            self.shard.flush()
        finally:
            self.shard.close()


class ClientVectorStore:
    """A Qdrant server (``indexing.qdrant_url``) or qdrant-client's local mode (``path``)."""

    def __init__(
        self,
        dim: int,
        *,
        url: str = "",
        api_key: str = "",
        path: Path | None = None,
        collection: str = COLLECTION,
        recreate: bool = False,
        model: str = "",
        shared: bool | None = None,
    ) -> None:
        from qdrant_client import QdrantClient, models

        self.models = models
        self.collection = collection
        # A server is shared by default; local mode (tests) may pretend to be one.
        self.shared = bool(url) if shared is None else shared
        self.client = (
            QdrantClient(url=url, api_key=api_key or None) if url else QdrantClient(path=str(path))
        )
        if recreate and self.client.collection_exists(collection):
            self.client.delete_collection(collection)
        if not self.client.collection_exists(collection):
            self.client.create_collection(
                collection,
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
                metadata={"embedding_model": model, "dim": dim} if model else None,
            )
            if url:  # local mode has no payload indexes (and warns about them)
                for field in ("language", "dirs", "kind"):
                    self.client.create_payload_index(
                        collection, field, models.PayloadSchemaType.KEYWORD
                    )

    def upsert(self, ids: Sequence[int], vectors: Vectors, payloads: Payloads) -> None:
        points = [
            self.models.PointStruct(id=i, vector=list(v), payload=p)
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self.client.upsert(self.collection, points)

    def delete(self, ids: Sequence[int]) -> None:
        # On a shared server another clone may still have these chunks: keep them.
        if ids and not self.shared:
            self.client.delete(self.collection, self.models.PointIdsList(points=list(ids)))

    def existing(self, ids: Sequence[int]) -> set[int]:
        if not ids or not self.shared:
            return set()
        found = self.client.retrieve(
            self.collection, list(ids), with_payload=False, with_vectors=False
        )
        return {int(p.id) for p in found}

    def query(
        self, vector: Sequence[float], k: int, **scope: Unpack[Scope]
    ) -> list[tuple[int, float]]:
        m = self.models
        must: list[Any] = [
            m.FieldCondition(key=key, match=m.MatchValue(value=value))
            for key, value in _matches(scope)
        ]
        found = self.client.query_points(
            self.collection,
            query=list(vector),
            limit=k,
            query_filter=m.Filter(must=must) if must else None,
            with_payload=["chunk"],
        )
        return [(_chunk_of(p.id, p.payload), float(p.score)) for p in found.points]

    def count(self) -> int:
        return int(self.client.count(self.collection).count)

    def close(self) -> None:
        self.client.close()


def view_ids(chunk: int, views: int) -> list[int]:
    """The point ids of a chunk's embedding views: the chunk's own id for the first (so
    an index embedded one vector per chunk stays valid), ids with the top bit set, which
    no chunk id has, for the others (their payload's ``chunk`` names the chunk)."""
    extra = [
        (1 << 63)
        | int.from_bytes(hashlib.blake2b(f"{chunk}:{v}".encode(), digest_size=8).digest(), "big")
        >> 1
        for v in range(1, views)
    ]
    return [chunk, *extra]


def _chunk_of(point: Any, payload: Any) -> int:
    """The chunk a point embeds: its payload's ``chunk`` for a second view, else itself."""
    chunk = payload.get("chunk") if isinstance(payload, dict) else None
    return int(chunk) if chunk is not None else int(point)


def _matches(scope: Scope) -> list[tuple[str, str]]:
    """The payload fields a point must match: its ``language``, and a folder in ``dirs``."""
    wanted = (("language", scope.get("language")), ("dirs", scope.get("path_prefix")))
    return [(key, value) for key, value in wanted if value]


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "manifest.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_manifest(folder: Path, data: dict[str, Any]) -> None:
    """Which model, dimension and store the vectors were built with."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(data))
