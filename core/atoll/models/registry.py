"""The process's models: each in-process model is loaded once, whoever asks for it.

Completion, hover and the crew all ask here. A GGUF file with the same load settings
(context size, threads, GPU layers, CPU buffers) gives the same loaded model, on one
worker thread whose priorities put completion ahead of hover ahead of the crew. Each
caller holds a :class:`Lease`; the model is freed when the last one is closed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from atoll.models.llama_load import default_threads
from atoll.models.types import ChatLimits, Generation, Limits, Prompt

if TYPE_CHECKING:
    from atoll.config import AtollConfig
    from atoll.models.backends.llama_cpp import LlamaCppModel
    from atoll.models.gguf import GgufInfo
    from atoll.models.worker import ModelWorker


@dataclass(frozen=True)
class LocalSpec:
    """What a loaded llama.cpp model is: equal specs share one instance."""

    path: Path
    n_ctx: int = 4096
    n_threads: int = 0
    n_gpu_layers: int = 0
    extra_buffers: bool = False

    @classmethod
    def of(cls, config: AtollConfig, path: Path) -> LocalSpec:
        """The spec ``config.models`` describes for the GGUF at ``path``."""
        m = config.models
        return cls(path, m.n_ctx, m.n_threads, m.n_gpu_layers, m.cpu_extra_buffers)

    def key(self) -> LocalSpec:
        threads = self.n_threads if self.n_threads > 0 else default_threads()
        return LocalSpec(
            self.path.resolve(), self.n_ctx, threads, self.n_gpu_layers, self.extra_buffers
        )


class Lease:
    """One user's hold on a shared model; :meth:`close` lets go of it."""

    backend = "llama_cpp"

    def __init__(self, registry: ModelRegistry, key: LocalSpec, model: LlamaCppModel) -> None:
        self._registry = registry
        self._key = key
        self.local = model
        self._closed = False

    @property
    def name(self) -> str:
        return self.local.name

    @property
    def worker(self) -> ModelWorker:
        return self.local.worker

    @property
    def info(self) -> GgufInfo:
        return self.local.info

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    async def complete(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        return await self.local.complete(prompt, **limits)

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str:
        return await self.local.chat(messages, **limits)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._registry.release(self._key)


class ModelRegistry:
    """See the module docstring. Thread-safe: the crew asks from its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local: dict[LocalSpec, tuple[LlamaCppModel, int]] = {}

    def local(self, spec: LocalSpec) -> Lease:
        """The loaded model for ``spec`` (loading it, on its worker, the first time)."""
        from atoll.models.backends.llama_cpp import LlamaCppModel

        key = spec.key()
        with self._lock:  # a second caller waits for the same load, never starts another
            found = self._local.get(key)
            if found is not None:
                self._local[key] = (found[0], found[1] + 1)
                return Lease(self, key, found[0])
            model = LlamaCppModel(
                key.path,
                n_ctx=key.n_ctx,
                n_threads=key.n_threads,
                n_gpu_layers=key.n_gpu_layers,
                cpu_extra_buffers=key.extra_buffers,
            )
            try:
                model.load_blocking()
            except BaseException:
                model.close()
                raise
            self._local[key] = (model, 1)
            return Lease(self, key, model)

    def release(self, key: LocalSpec) -> None:
        with self._lock:
            found = self._local.get(key)
            if found is None:
                return
            model, users = found
            if users > 1:
                self._local[key] = (model, users - 1)
                return
            del self._local[key]
        model.close()  # outside the lock: waits for the running call to stop

    def describe(self) -> list[dict[str, Any]]:
        """The loaded models and how many hold each (``atoll.status``)."""
        with self._lock:
            return [
                {"path": str(key.path), "n_ctx": key.n_ctx, "threads": key.n_threads, "users": n}
                for key, (_, n) in self._local.items()
            ]


_REGISTRY = ModelRegistry()


def registry() -> ModelRegistry:
    """The process's one registry."""
    return _REGISTRY
