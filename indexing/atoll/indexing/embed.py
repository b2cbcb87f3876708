"""Text → unit vectors: local sentence-transformers, or an OpenAI-compatible server.

``make_embedder(config)`` picks the server when ``indexing.embed_endpoint.base_url``
is set (vLLM serving an embedding model, ``llama_cpp.server --embedding true``, Text
Embeddings Inference), else the configured (or demo) sentence-transformers model on
this machine's CPU. Neither loads anything until the first text is embedded: importing
sentence-transformers alone takes seconds and hundreds of MB.

``pipelined`` feeds batches to an embedder with up to ``embedder.concurrency`` in
flight (back-pressure: it never reads ahead further than that).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from atoll.config import AtollConfig, resolve_embedding

log = logging.getLogger(__name__)
T = TypeVar("T")


class EmbeddingError(RuntimeError):
    """The embedder cannot embed (server down or refusing, model missing); says why."""


class Embedder(Protocol):
    name: str  # what the vectors were built with (recorded in the manifest)
    batch: int  # texts per call
    concurrency: int  # calls in flight at once

    @property
    def loaded(self) -> bool:
        """Whether ``dim`` and ``embed`` answer without loading a model first."""
        ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def close(self) -> None: ...


def make_embedder(config: AtollConfig) -> Embedder:
    if config.indexing.embed_endpoint.base_url:
        from atoll.indexing.embed_remote import RemoteEmbedder

        return RemoteEmbedder(config)
    return LocalEmbedder(config)


def cpu_threads(configured: int) -> int:
    """Threads for local embedding: as configured, else one per CPU but one (the editor's)."""
    if configured > 0:
        return configured
    return max(1, (os.cpu_count() or 2) - 1)


class LocalEmbedder:
    """A sentence-transformers model on this machine's CPU, loaded on first use."""

    concurrency = 1  # one model: calls run one after another

    def __init__(self, config: AtollConfig) -> None:
        self.resolved = resolve_embedding(config)
        self.name = str(self.resolved.path)
        self.batch = max(1, config.indexing.embed_batch)
        self.threads = cpu_threads(config.indexing.embed_threads)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)
                log.info(
                    "loading embedding model %s (%d CPU threads)", self.resolved.path, self.threads
                )
                try:
                    self._model = SentenceTransformer(str(self.resolved.path), device="cpu")
                except Exception as exc:
                    raise EmbeddingError(
                        f"cannot load the embedding model {self.resolved.path}: {exc}"
                    ) from exc
            return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(get())

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [list(map(float, v)) for v in vectors]

    def close(self) -> None:
        self._model = None


def pipelined(
    embedder: Embedder, batches: Iterable[T], texts_of: Any
) -> Iterator[tuple[T, list[list[float]]]]:
    """``(batch, vectors)`` in order, with up to ``embedder.concurrency`` calls in flight."""
    width = max(1, embedder.concurrency)
    if width == 1:
        for batch in batches:
            yield batch, embedder.embed(texts_of(batch))
        return
    queue: deque[tuple[T, Future[list[list[float]]]]] = deque()
    with ThreadPoolExecutor(width, thread_name_prefix="atoll-embed") as pool:
        try:
            for batch in batches:
                queue.append((batch, pool.submit(embedder.embed, texts_of(batch))))
                if len(queue) >= width:
                    done, future = queue.popleft()
                    yield done, future.result()
            while queue:
                done, future = queue.popleft()
                yield done, future.result()
        finally:
            for _, future in queue:
                future.cancel()
