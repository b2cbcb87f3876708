"""atoll's inline completion engine: prompts, backends, post-processing, cache.

Public surface:

- :func:`read_gguf_metadata` / :class:`GgufInfo` / :class:`GgufError`: a GGUF file's
  header and tokenizer, without loading the model.
- :class:`TextModel`: the one text-generation interface (``chat`` for explanations,
  ``complete`` for raw prompts); the server holds one as ``server.llm``.
- :class:`CompletionEngine`: a cursor in, a cleaned suggestion and its timings out.
- :class:`FimTemplate` and :func:`detect_template`: fill-in-the-middle prompts per family.

Nothing here imports llama.cpp or openai at import time.
"""

from atoll.completion.engine import CompletionEngine, CompletionRequest, CompletionResult
from atoll.completion.protocols import CodeIndex
from atoll.completion.templates import FimTemplate, detect_template, template_by_name
from atoll.models.gguf import GgufError, GgufInfo, read_gguf_metadata
from atoll.models.types import Generation, ModelUnavailableError, Prompt, Segment, TextModel

__all__ = [
    "CodeIndex",
    "CompletionEngine",
    "CompletionRequest",
    "CompletionResult",
    "FimTemplate",
    "Generation",
    "GgufError",
    "GgufInfo",
    "ModelUnavailableError",
    "Prompt",
    "Segment",
    "TextModel",
    "detect_template",
    "read_gguf_metadata",
    "template_by_name",
]
