"""Small deterministic stand-ins for the index (logic tests only; the chat model is
:class:`tests.scripted_model.ScriptedModel`)."""

from __future__ import annotations

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
