"""tree-sitter parsers and definitions queries, per language of the registry.

Which grammar and query a language uses is the registry's business
(:mod:`atoll.languages`); this module only builds them. Parsers are cached per thread:
a tree-sitter ``Parser`` must not be shared between threads.
"""

from __future__ import annotations

import threading
from typing import Any

from atoll import languages

_local = threading.local()


def parser_and_query(language: str) -> tuple[Any, Any]:
    """This thread's (Parser, Query) for ``language``; raises LookupError if unsupported."""
    cache: dict[str, tuple[Any, Any, Any]] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    lang = languages.get(language)
    found = cache.get(language)
    if found is None or found[2] is not lang:
        if not lang.parses:
            raise LookupError(f"no grammar for {language}")
        from tree_sitter import Query
        from tree_sitter_language_pack import get_language, get_parser

        grammar: Any = lang.grammar
        source = languages.query_source(language)
        found = (get_parser(grammar), Query(get_language(grammar), source), lang)
        cache[language] = found
    return found[0], found[1]
