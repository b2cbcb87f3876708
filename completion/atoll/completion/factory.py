"""Build the configured backend: which model, which template, and why not when it fails.

The backends themselves are in :mod:`atoll.models.backends` (one module each); this
picks one and the prompt template that suits its model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from atoll.completion.templates import FimTemplate, detect_template, template_by_name
from atoll.config import AtollConfig
from atoll.models.backends import BackendError, StateListener, discover
from atoll.models.gguf import GgufInfo
from atoll.models.types import TextModel

__all__ = ["BackendError", "LoadedBackend", "choose_backend", "create_backend"]
log = logging.getLogger(__name__)


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


def create_backend(config: AtollConfig, *, on_state: StateListener | None = None) -> LoadedBackend:
    """Create and load the configured backend (blocking: call from a worker thread).

    Raises :class:`BackendError` with an actionable message.
    """
    name = choose_backend(config)
    backends = discover()
    if name not in backends:
        raise BackendError(f"completion.backend {name!r} is not one of {', '.join(backends)}")
    created = backends[name].create(config, on_state)
    template = _template(config, created.info, created.name_hint)
    return LoadedBackend(created.model, template, created.demo, created.info)
