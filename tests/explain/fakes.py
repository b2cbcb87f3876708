"""Small deterministic stand-ins for the index and the chat model (logic tests only)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FakeSymbol:
    name: str
    kind: int
    container: str
    path: Path
    language: str
    start_line: int
    end_line: int
    sel_start_line: int
    signature: str
    doc: str
    references: int = 0


@dataclass(frozen=True)
class FakeHit:
    path: Path
    start_line: int
    end_line: int
    text: str


@dataclass
class FakeIndex:
    symbols: list[FakeSymbol] = field(default_factory=list)
    hits: list[FakeHit] = field(default_factory=list)

    def definitions(self, name: str) -> Sequence[FakeSymbol]:
        return [s for s in self.symbols if s.name == name]

    def search(self, query: str, k: int = 10, *, mode: str = "hybrid") -> Sequence[FakeHit]:
        return [h for h in self.hits if query in h.text][:k]


class ScriptedChat:
    """Answers from a script; ``delay_s`` simulates decoding, checking ``cancel`` like a decoder."""

    def __init__(self, answer: str = "Adds two numbers.", *, delay_s: float = 0.0) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.calls: list[list[dict[str, str]]] = []
        self.cancelled: list[threading.Event] = []

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str:
        self.calls.append(messages)
        if cancel is not None:
            self.cancelled.append(cancel)
        steps = max(1, int(self.delay_s / 0.01))
        for _ in range(steps if self.delay_s else 0):
            if cancel is not None and cancel.is_set():
                return ""
            await asyncio.sleep(0.01)
        if self.answer == "boom":
            raise RuntimeError("model crashed")
        return self.answer
