"""The engine's plain values: a request, its result, and running statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CompletionRequest:
    """A cursor in a document (offsets in Python characters)."""

    uri: str
    text: str
    offset: int
    path: Path | None = None
    automatic: bool = False
    # selectedCompletionInfo: the popup item that replaces text[selected_start:offset].
    selected_text: str = ""
    selected_start: int | None = None


@dataclass
class CompletionResult:
    """What to show: insert ``insert_text`` over ``[start_offset, offset)``."""

    text: str  # the suggestion after the cursor ('' when there is none)
    source: str  # model, cache, typeahead, superseded, cancelled, unavailable, empty
    start_offset: int = 0
    insert_text: str = ""
    template: str = ""
    multiline: bool = False
    prompt_tokens: int = 0
    cached_tokens: int = 0
    evaluated_tokens: int = 0
    decode_tokens: int = 0
    finish: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    prompt: str = ""
    line_prefix: str = ""  # the cursor line up to the cursor
    context_files: int = 0  # files whose snippets went into the prompt

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "prompt"}


@dataclass
class EngineStats:
    requests: int = 0
    model_calls: int = 0  # requests that reached the model (evaluated at least a prompt)
    cache_hits: int = 0
    typeahead_hits: int = 0
    superseded: int = 0  # answered empty because a newer request came
    cancelled: int = 0  # stopped mid-way (prompt or decode)
    skipped: int = 0  # cancelled before the model started them
    unavailable: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    evaluated_tokens: int = 0  # prompt tokens the model actually evaluated
    decode_tokens: int = 0
    wasted_tokens: int = 0  # decoded for suggestions nobody saw
    warms: int = 0  # prompts evaluated ahead of a request
    warm_tokens: int = 0

    @property
    def kv_reuse(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "kv_reuse": round(self.kv_reuse, 3)}

    def count(self, g: Any, *, wasted: bool = False) -> None:
        """Add one model call's token counts (a Generation)."""
        self.prompt_tokens += g.prompt_tokens
        self.cached_tokens += g.cached_tokens
        self.evaluated_tokens += g.evaluated_tokens
        self.decode_tokens += g.decode_tokens
        if wasted:
            self.wasted_tokens += g.decode_tokens
