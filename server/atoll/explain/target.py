"""Which identifier sits under the cursor, or none (whitespace, comment, string, keyword).

tree-sitter decides where it has a grammar for the file; elsewhere a small lexical
fallback keeps hovers on comments and blank space empty.
"""

from __future__ import annotations

import keyword
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atoll import languages

log = logging.getLogger(__name__)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Leaves that name something; anything else (operators, literals, keywords) gets no hover.
_NAME_NODE = re.compile(r"(^|_)identifier$|^(type|field|property|shorthand_field)_identifier$")
_NO_HOVER_NODE = re.compile(r"comment|string|char_literal|escape_sequence")
# Code inside a string (an f-string's `{...}`, a template literal's `${...}`).
_CODE_IN_STRING = re.compile(r"interpolation|template_substitution")
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(
    [
        "fn",
        "let",
        "mut",
        "pub",
        "impl",
        "struct",
        "enum",
        "trait",
        "use",
        "mod",
        "crate",
        "self",
        "Self",
        "super",
        "match",
        "where",
        "property",
        "signal",
        "import",
        "function",
        "var",
        "const",
        "return",
        "if",
        "else",
        "for",
        "while",
        "true",
        "false",
        "null",
    ]
)


@dataclass(frozen=True)
class HoverTarget:
    """An identifier in a document: its text and character offsets ``[start, end)``."""

    name: str
    start: int
    end: int


def language_for(path: Path | None, language_id: str | None = None) -> str | None:
    """The language of a file (the registry's name), from its name, else the editor's id."""
    if path is not None:
        found = languages.for_path(path)
        if found is not languages.TEXT:
            return found.name
    if language_id:
        known = languages.for_lsp_id(language_id)
        return known.name if known is not None else language_id
    return None


def find_target(text: str, offset: int, language: str | None) -> HoverTarget | None:
    """The identifier at ``offset`` (or ending there), or ``None`` when there is nothing to explain."""
    span = _word_at(text, offset)
    if span is None:
        return None
    start, end = span
    name = text[start:end]
    if name in _KEYWORDS:
        return None
    verdict = _tree_sitter_verdict(text, start, language) if language else None
    if verdict is None:
        verdict = not _in_comment_or_string(text, start)
    return HoverTarget(name, start, end) if verdict else None


def _word_at(text: str, offset: int) -> tuple[int, int] | None:
    if not 0 <= offset <= len(text):
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    column = offset - line_start
    for match in _IDENT.finditer(line):
        if match.start() <= column < match.end() or (
            column == match.end() and (column == len(line) or not line[column].isalnum())
        ):
            if match.start() > 0 and line[match.start() - 1].isdigit():
                return None  # part of a number such as 1e10
            return line_start + match.start(), line_start + match.end()
    return None


def _tree_sitter_verdict(text: str, start: int, language: str) -> bool | None:
    """True: a name node; False: comment, string or keyword; None: cannot tell here."""
    parser = _parser(language)
    if parser is None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    byte = len(text[:start].encode("utf-8", "surrogatepass"))
    tree = parser.parse(data)
    node = tree.root_node.descendant_for_byte_range(byte, byte + 1)
    if node is None:
        return None
    walker: Any = node
    while walker is not None:
        if _CODE_IN_STRING.search(walker.type):
            break
        if _NO_HOVER_NODE.search(walker.type):
            return False
        walker = walker.parent
    return bool(_NAME_NODE.search(node.type))


_PARSERS: dict[str, Any] = {}


def _parser(language: str) -> Any:
    lang = languages.get(language)
    # Known to the registry: its grammar (or none). Unknown: the editor's name may
    # still be one of the language pack's grammars.
    grammar = lang.grammar if lang is not languages.TEXT else language
    if not grammar:
        return None
    if grammar not in _PARSERS:
        _PARSERS[grammar] = None
        try:
            from tree_sitter_language_pack import get_parser

            _PARSERS[grammar] = get_parser(grammar)  # type: ignore[arg-type]
        except Exception as exc:  # no grammar, or the pack is missing
            log.debug("no tree-sitter parser for %s: %s", grammar, exc)
    return _PARSERS[grammar]


def _in_comment_or_string(text: str, start: int) -> bool:
    """A line-local guess for files without a grammar: after ``#``/``//``, or inside quotes."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    quotes = 0
    for index, char in enumerate(before):
        if char in "\"'":
            quotes += 1
        elif quotes % 2 == 0 and (char == "#" or before.startswith("//", index)):
            return True
    return quotes % 2 == 1
