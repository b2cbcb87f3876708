"""What the index knows about a symbol, gathered for a hover without any model call."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from atoll.explain.protocols import HitLike, SymbolLike, SymbolSource

# LSP SymbolKind values -> words (the engine never imports lsprotocol).
KIND_WORDS = {
    2: "module",
    3: "namespace",
    5: "class",
    6: "method",
    7: "property",
    8: "field",
    9: "constructor",
    10: "enum",
    11: "interface",
    12: "function",
    13: "variable",
    14: "constant",
    19: "object",
    22: "enum member",
    23: "struct",
}
MAX_DEFINITION_LINES = 60
ReadText = Callable[[Path], str | None]


@dataclass(frozen=True)
class CallSite:
    """A few lines around one use of the symbol."""

    path: Path
    line: int  # 0-based line of the use
    text: str


@dataclass(frozen=True)
class HoverFacts:
    """Everything a hover shows before (or without) a model explanation."""

    name: str
    qualified_name: str
    kind: str
    language: str
    signature: str
    doc: str
    path: Path
    line: int  # 0-based line of the definition's name
    references: int
    other_definitions: int
    source: str  # the definition's text (cut to MAX_DEFINITION_LINES)
    content_hash: str  # of the definition: the explanation cache key

    def location(self, root: Path | None) -> str:
        """``relative/path.py:LINE`` (1-based) when under ``root``, else the absolute path."""
        shown = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = self.path.relative_to(root)
        return f"{shown.as_posix()}:{self.line + 1}"


def choose_definition(
    definitions: Sequence[SymbolLike], here: Path | None, language: str | None
) -> SymbolLike | None:
    """The most likely definition: in this file, then in this language, then the first."""
    if not definitions:
        return None

    def rank(symbol: SymbolLike) -> tuple[int, int]:
        same_file = here is not None and symbol.path == here
        same_language = language is not None and symbol.language == language
        return (0 if same_file else 1, 0 if same_language else 1)

    return min(definitions, key=rank)


def build_facts(
    index: SymbolSource,
    name: str,
    *,
    here: Path | None,
    language: str | None,
    read_text: ReadText,
) -> HoverFacts | None:
    """The facts for ``name`` (``None`` when the index has no definition of it).

    ``read_text`` returns a file's current text (the open buffer wins over the disk).
    """
    definitions = list(index.definitions(name))
    symbol = choose_definition(definitions, here, language)
    if symbol is None:
        return None
    text = read_text(symbol.path) or ""
    lines = text.splitlines()
    end = min(symbol.end_line + 1, symbol.start_line + MAX_DEFINITION_LINES, len(lines))
    source = "\n".join(lines[symbol.start_line : end]) or symbol.signature
    qualified = f"{symbol.container}.{symbol.name}" if symbol.container else symbol.name
    digest = hashlib.sha256(
        "\0".join((symbol.language, qualified, source)).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return HoverFacts(
        name=symbol.name,
        qualified_name=qualified,
        kind=KIND_WORDS.get(symbol.kind, "symbol"),
        language=symbol.language,
        signature=symbol.signature.strip()
        or (lines[symbol.sel_start_line].strip() if lines else ""),
        doc=symbol.doc.strip(),
        path=symbol.path,
        line=symbol.sel_start_line,
        references=symbol.references,
        other_definitions=len(definitions) - 1,
        source=source,
        content_hash=digest,
    )


def call_sites(index: SymbolSource, facts: HoverFacts, *, limit: int = 3) -> list[CallSite]:
    """Up to ``limit`` uses of the symbol from code search, never the definition itself."""
    word = re.compile(rf"\b{re.escape(facts.name)}\b")
    sites: list[CallSite] = []
    # Uses of a name are found by its spelling: no embedding model needed for a hover.
    hits: Sequence[HitLike] = index.search(facts.name, k=limit * 4, mode="lexical")
    for hit in hits:
        hit_lines = hit.text.splitlines()
        for offset, line in enumerate(hit_lines):
            number = hit.start_line + offset
            if not word.search(line) or (hit.path == facts.path and number == facts.line):
                continue
            if _is_definition_line(line, facts.name):
                continue
            window = hit_lines[max(0, offset - 1) : offset + 2]
            sites.append(CallSite(hit.path, number, "\n".join(window)))
            break
        if len(sites) >= limit:
            break
    return sites


def _is_definition_line(line: str, name: str) -> bool:
    return bool(
        re.match(rf"\s*(async\s+def|def|class|fn|pub\s+fn|struct|enum|trait)\s+{name}\b", line)
    )
