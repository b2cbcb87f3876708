"""Identifier helpers: camelCase / snake_case words, initials, and subsequence matching."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
# Too common to say anything about how much a definition is used.
_NOISE = frozenset(
    [
        "self",
        "cls",
        "def",
        "class",
        "return",
        "import",
        "from",
        "None",
        "True",
        "False",
        "and",
        "not",
        "for",
        "the",
        "this",
        "let",
        "var",
        "const",
        "new",
        "pub",
        "impl",
        "mut",
        "use",
        "int",
        "str",
        "len",
        "with",
        "elif",
        "else",
        "while",
        "pass",
    ]
)


def words(name: str) -> list[str]:
    """``getHTTPResponse_code`` → ``["get", "http", "response", "code"]``."""
    return list(_words(name))


# Cached per process: a full run meets the same names (``__init__``, ``setUp``,
# ``getLogger``) in thousands of files, and splitting one is a regex each time.
@lru_cache(maxsize=1 << 16)
def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(name))


@lru_cache(maxsize=1 << 16)
def search_terms(name: str) -> str:
    """The words FTS indexes for a symbol name: itself, its parts, joined parts, initials."""
    parts = _words(name)
    lowered = name.lower()
    terms = [lowered, *parts]
    if len(parts) > 1:
        terms.append("".join(parts))
        terms.append("".join(p[0] for p in parts))
    return " ".join(dict.fromkeys(t for t in terms if t))


def identifier_counts(text: str) -> dict[str, int]:
    """Occurrences of each identifier (3+ characters) in a file: references by name."""
    counts = Counter(IDENTIFIER.findall(text))
    for noise in _NOISE & counts.keys():
        del counts[noise]
    return dict(counts)


def subsequence_pattern(query: str) -> re.Pattern[str]:
    """A regex matching names (one per line) that contain ``query``'s letters in order.

    Each step is ``[^\\nX]*X``: it cannot backtrack, so a scan over 100k names stays cheap.
    """
    letters = [c for c in query.lower() if c.isalnum() or c == "_"]
    body = "".join(f"[^\\n{re.escape(c)}]*{re.escape(c)}" for c in letters)
    return re.compile(f"^{body}[^\\n]*$", re.MULTILINE)


def camel_identifiers(identifiers: Iterable[str]) -> dict[str, str]:
    """identifier → its words, for those with a case change inside (totalUnits, HTTPServer).

    Only those need splitting for search: FTS's own tokenizer already splits at ``_``
    and ignores case, so ``total_units`` and ``Inventory`` are found as they are.
    """
    return {
        ident: " ".join(_words(ident))
        for ident in identifiers
        if not ident[1:].islower() and not ident.isupper() and not ident[1:].isdigit()
    }


def camel_words(text: str, camel: dict[str, str]) -> str:
    """The words of the camelCase identifiers (from ``camel_identifiers``) in ``text``."""
    if not camel:
        return ""
    found = camel.keys() & set(IDENTIFIER.findall(text))
    return " ".join(dict.fromkeys(" ".join(camel[i] for i in sorted(found)).split()))
