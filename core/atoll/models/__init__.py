"""atoll's models: every model the process uses, loaded once, shared by priority.

Public surface:

- :func:`registry` / :class:`ModelRegistry` / :class:`LocalSpec`: in-process llama.cpp
  models, one instance per GGUF and load settings, whoever asks (completion, hover,
  the crew); each user holds a :class:`Lease`.
- :mod:`atoll.models.backends`: one module per backend (``llama_cpp``, ``openai``),
  each defining ``BACKEND``; adding a backend is adding a module there.
- :class:`TextModel`, :class:`Prompt`, :class:`Segment`, :class:`Generation`,
  :class:`ModelUnavailableError`: what every backend speaks.
- :class:`ModelWorker` and the priorities: one thread per loaded model; completion
  ahead of explanations ahead of the crew ahead of warming.
- :func:`read_gguf_metadata`: a GGUF file's header and tokenizer, without loading it.

Nothing here imports llama.cpp, httpx or numpy at import time.
"""

from atoll.models.gguf import GgufError, GgufInfo, read_gguf_metadata
from atoll.models.registry import Lease, LocalSpec, ModelRegistry, registry
from atoll.models.types import (
    Generation,
    Infill,
    ModelUnavailableError,
    Prompt,
    Segment,
    TextModel,
)
from atoll.models.worker import (
    PRIORITY_CHAT,
    PRIORITY_COMPLETION,
    PRIORITY_CREW,
    PRIORITY_WARM,
    CancelFlag,
    JobSkippedError,
    ModelWorker,
)

__all__ = [
    "PRIORITY_CHAT",
    "PRIORITY_COMPLETION",
    "PRIORITY_CREW",
    "PRIORITY_WARM",
    "CancelFlag",
    "Generation",
    "GgufError",
    "GgufInfo",
    "Infill",
    "JobSkippedError",
    "Lease",
    "LocalSpec",
    "ModelRegistry",
    "ModelUnavailableError",
    "ModelWorker",
    "Prompt",
    "Segment",
    "TextModel",
    "read_gguf_metadata",
    "registry",
]
