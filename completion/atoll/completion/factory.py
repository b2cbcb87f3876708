"""Build the configured backend: which model, which template, and why not when it fails."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from atoll.completion.gguf import GgufError, GgufInfo, read_gguf_metadata
from atoll.completion.protocols import TextModel
from atoll.completion.templates import FimTemplate, detect_template, template_by_name
from atoll.config import AtollConfig

log = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """The configured backend cannot start; the message says what to fix."""


@dataclass
class LoadedBackend:
    model: TextModel
    template: FimTemplate
    demo: bool
    info: GgufInfo | None

    def status(self) -> dict[str, object]:
        return {
            "backend": self.model.backend,
            "model": self.model.name,
            "demo": self.demo,
            "template": self.template.name,
            "quantization": self.info.quantization if self.info else None,
        }


def choose_backend(config: AtollConfig) -> str:
    backend = config.completion.backend
    if backend == "auto":
        return "openai" if config.completion.endpoint.base_url else "llama_cpp"
    return backend


def _template(config: AtollConfig, info: GgufInfo | None, name: str) -> FimTemplate:
    configured = config.completion.fim_template
    if configured and configured != "auto":
        return template_by_name(configured)
    return detect_template(info, name)


def create_backend(config: AtollConfig, *, on_state: object = None) -> LoadedBackend:
    """Create and load the configured backend (blocking: call from a worker thread).

    Raises :class:`BackendError` with an actionable message.
    """
    backend = choose_backend(config)
    if backend == "openai":
        return _create_openai(config, on_state)
    return _create_llama(config)


def _create_openai(config: AtollConfig, on_state: object) -> LoadedBackend:
    from atoll.completion.backends.openai_compat import OpenAICompatModel, StateListener

    endpoint = config.completion.endpoint
    if not endpoint.base_url:
        raise BackendError(
            "completion.backend is 'openai' but completion.endpoint.base_url is empty: set it "
            "to your server's URL, e.g. http://gpu-box.lan:8000/v1"
        )
    timeout = min(endpoint.timeout_s, max(1.0, config.completion.time_budget_ms / 1000 * 2))
    listener: StateListener | None = on_state if callable(on_state) else None
    model = OpenAICompatModel(
        endpoint.base_url,
        endpoint.model,
        api_key=endpoint.api_key,
        timeout_s=timeout,
        backoff_max_s=config.completion.backoff_max_s,
        on_state=listener,
        server=config.completion.server,
    )
    info: GgufInfo | None = None
    if config.models.gguf and Path(config.models.gguf).expanduser().is_file():
        # The same file the server runs: its tokens tell the template.
        try:
            info = read_gguf_metadata(config.models.gguf)
        except GgufError as exc:
            log.warning("models.gguf: %s", exc)
    return LoadedBackend(model, _template(config, info, endpoint.model), False, info)


def _create_llama(config: AtollConfig) -> LoadedBackend:
    from atoll.completion.backends.llama_cpp import LlamaCppModel
    from atoll.config.models import ModelNotFoundError, resolve_gguf

    try:
        resolved = resolve_gguf(config)
    except ModelNotFoundError as exc:
        raise BackendError(str(exc)) from None
    try:
        info = read_gguf_metadata(resolved.path)
    except GgufError as exc:
        raise BackendError(f"models.gguf: {exc}. Point it at a GGUF model file.") from None
    model = LlamaCppModel(
        resolved.path,
        n_ctx=config.models.n_ctx,
        n_threads=config.models.n_threads,
        n_gpu_layers=config.models.n_gpu_layers,
        cpu_extra_buffers=config.models.cpu_extra_buffers,
        info=info,
    )
    try:
        model.load_blocking()
    except Exception as exc:
        model.close()
        raise BackendError(f"llama.cpp could not load {resolved.path}: {exc}") from None
    return LoadedBackend(model, _template(config, info, resolved.name), resolved.demo, info)
