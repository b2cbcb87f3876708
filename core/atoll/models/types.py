"""The values every model speaks: prompts as segments, generations, and the contract.

:class:`TextModel` is the one text-generation contract: completion uses
:meth:`TextModel.complete`, hover explanations (and anything else that wants a few
sentences from the local model) use :meth:`TextModel.chat`. The server holds the
completion model as ``server.llm``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, Required, TypedDict, Unpack, runtime_checkable


class ModelUnavailableError(RuntimeError):
    """The backend cannot answer now (not loaded, server down, backing off)."""


@dataclass(frozen=True)
class Segment:
    """A piece of a prompt: plain text, or the text of one special token."""

    text: str
    special: bool = False


@dataclass(frozen=True)
class Infill:
    """The same prompt as parts, for servers that build fill-in-the-middle prompts
    themselves (llama.cpp's ``/infill``)."""

    prefix: str  # the file before the cursor's block
    suffix: str
    middle: str  # the cursor's block up to the cursor (llama.cpp's "prompt")
    extra: tuple[tuple[str, str], ...] = ()  # (file name, text) of context snippets
    indent: int = 0  # the cursor line's indentation, in characters


@dataclass(frozen=True)
class Prompt:
    """A completion prompt as segments, so special tokens are never confused with code."""

    segments: tuple[Segment, ...]
    stop: tuple[str, ...] = ()
    # Decided on the text so far: True ends the decode (e.g. the code block is over).
    done: Callable[[str], bool] | None = field(default=None, compare=False)
    infill: Infill | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


class ChatLimits(TypedDict, total=False):
    """How far one answer may go: at most ``max_tokens``, stopping when ``cancel`` is set."""

    max_tokens: Required[int]
    cancel: threading.Event | None


class Limits(ChatLimits, total=False):
    """A completion's limits: a chat's, and a ``deadline`` (``time.monotonic()`` seconds)."""

    deadline: float | None


@dataclass
class Generation:
    """One decode's text and what it cost."""

    text: str
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV entries were reused
    moved_tokens: int = 0  # of those, entries moved to a new position (text removed above)
    evaluated_tokens: int = 0  # prompt tokens evaluated by this call
    decode_tokens: int = 0
    prompt_ms: float = 0.0  # queue wait excluded
    decode_ms: float = 0.0
    queue_ms: float = 0.0
    # "stop", "length", "cancelled", "preempted", "deadline", "skipped" (never started)
    finish: str = "stop"
    # Tokens whose text was produced, for type-ahead bookkeeping (may be empty).
    pieces: list[str] = field(default_factory=list, repr=False)


@runtime_checkable
class TextModel(Protocol):
    """One loaded model (or one remote endpoint), one decode at a time.

    Completion requests take priority over chat requests waiting in the queue, and
    chat answers are capped in length so a long explanation cannot starve typing.
    """

    @property
    def name(self) -> str: ...

    @property
    def backend(self) -> str: ...

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str:
        """A chat completion (``[{"role": ..., "content": ...}]``); raises
        :class:`ModelUnavailableError` when the backend cannot answer."""
        ...

    async def complete(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        """A raw completion of ``prompt`` (no chat template), stopping at
        ``prompt.stop``, at ``max_tokens``, when ``cancel`` is set (checked between
        tokens) or at ``deadline`` (``time.monotonic()`` seconds)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes (exact for in-process models, estimated for remote)."""
        ...

    def close(self) -> None: ...
