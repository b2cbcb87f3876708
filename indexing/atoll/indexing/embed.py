"""Sentence-transformers embeddings, loaded lazily (the import alone takes seconds)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from atoll.config import AtollConfig, resolve_embedding

log = logging.getLogger(__name__)


class Embedder:
    """Batched text → unit vectors with the configured (or demo MiniLM) model."""

    def __init__(self, config: AtollConfig) -> None:
        self.resolved = resolve_embedding(config)
        self.batch = max(1, config.indexing.embed_batch)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.resolved.path)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                log.info("loading embedding model %s", self.resolved.path)
                self._model = SentenceTransformer(str(self.resolved.path), device="cpu")
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
