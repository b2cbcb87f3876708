"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` server on the GPU box.

vLLM serving an embedding model, ``python -m llama_cpp.server --embedding true``, Text
Embeddings Inference: each answers ``POST /v1/embeddings`` with one vector per input.
Batches go out ``indexing.embed_concurrency`` at a time; an outage, a timeout, a 429 or
a 5xx is retried with exponential back-off, a 4xx (wrong model name, input too long)
is not. Either way the last error becomes one :class:`EmbeddingError` that names the
server and what to do.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from atoll.config import AtollConfig
from atoll.indexing.embed import EmbeddingError

log = logging.getLogger(__name__)
RETRIES = 4  # after the first try: 0.5 s, 1 s, 2 s, 4 s
BACKOFF_S = 0.5


class RemoteEmbedder:
    """``indexing.embed_endpoint``: batched, concurrent, retried."""

    def __init__(self, config: AtollConfig, *, retries: int = RETRIES) -> None:
        import openai

        endpoint = config.indexing.embed_endpoint
        self.base_url = endpoint.base_url.rstrip("/")
        self.model = endpoint.model or "default"
        self.name = f"openai:{self.model}"
        self.batch = max(1, config.indexing.embed_batch)
        self.concurrency = max(1, config.indexing.embed_concurrency)
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=endpoint.api_key or "none",
            timeout=endpoint.timeout_s,
            max_retries=0,  # retried here, with back-off and one clear error
        )
        self.retries = retries
        self._dim = 0
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._dim > 0

    @property
    def dim(self) -> int:
        with self._lock:
            if not self._dim:
                self._dim = len(self._call(["dimension probe"])[0])
            return self._dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._call(list(texts))
        if self._dim and any(len(v) != self._dim for v in vectors):
            raise EmbeddingError(
                f"the embedding server {self.base_url} changed its vector size "
                f"(expected {self._dim}): is another model serving there now?"
            )
        return [_unit(v) for v in vectors]

    def _call(self, texts: list[str]) -> list[list[float]]:
        import openai

        error = ""
        for attempt in range(self.retries + 1):
            try:
                response = self._client.embeddings.create(
                    model=self.model, input=texts, encoding_format="float"
                )
                return _vectors(response, len(texts), self.base_url)
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                error = f"cannot reach the embedding server {self.base_url}: {exc}"
            except openai.APIStatusError as exc:
                if exc.status_code != 429 and exc.status_code < 500:
                    raise EmbeddingError(
                        f"the embedding server {self.base_url} refused model {self.model!r} "
                        f"(HTTP {exc.status_code}): {_message(exc)}; check "
                        "indexing.embed_endpoint.model and the server's --max-model-len"
                    ) from exc
                error = f"the embedding server {self.base_url} failed (HTTP {exc.status_code})"
            if attempt < self.retries:
                delay = BACKOFF_S * 2**attempt
                log.info("%s; retrying in %.1f s", error, delay)
                time.sleep(delay)
        raise EmbeddingError(
            f"{error}; gave up after {self.retries + 1} tries (is it running? `atoll doctor` "
            "checks it)"
        )

    def close(self) -> None:
        self._client.close()


def _vectors(response: Any, expected: int, url: str) -> list[list[float]]:
    data = sorted(response.data, key=lambda item: item.index)
    vectors = [_pooled(item.embedding) for item in data]
    if len(vectors) != expected or not all(vectors):
        raise EmbeddingError(
            f"the embedding server {url} returned {len(vectors)} vectors for {expected} texts"
        )
    return vectors


def _pooled(embedding: Any) -> list[float]:
    """One vector per text. A server without pooling (llama.cpp serving a chat model)
    answers one vector per token: their mean is the text's."""
    if embedding and isinstance(embedding[0], list):
        count = len(embedding)
        return [sum(column) / count for column in zip(*embedding, strict=True)]
    return [float(x) for x in embedding]


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("error", body)
        if isinstance(detail, dict):
            return str(detail.get("message", detail))
        return str(detail)
    return str(getattr(exc, "message", exc))
