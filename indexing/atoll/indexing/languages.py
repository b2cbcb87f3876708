"""Which files are in which language, and the tree-sitter parser and query for each.

Queries live in ``queries/<language>.scm`` (package data), not in code. Parsers are
cached per thread: a tree-sitter ``Parser`` must not be shared between threads.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import Any

# File suffix → tree-sitter-language-pack name. QML's grammar there is `qmljs`.
EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".rs": "rust",
    ".qml": "qmljs",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".go": "go",
    ".java": "java",
}

# Names people type (`--lang qml`) → the name stored in the index.
ALIASES: dict[str, str] = {
    "qml": "qmljs",
    "js": "javascript",
    "ts": "typescript",
    "py": "python",
    "c++": "cpp",
    "rs": "rust",
}

# Other text we chunk by lines so search covers it (no symbols).
TEXT_SUFFIXES: dict[str, str] = {
    ".md": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".cfg": "ini",
    ".ini": "ini",
    ".sh": "bash",
    ".html": "html",
    ".css": "css",
    ".scm": "query",
    ".cmake": "cmake",
    ".kt": "kotlin",
    ".swift": "swift",
    ".rb": "ruby",
    ".cs": "csharp",
    ".sql": "sql",
}


def language_for(path: PurePath) -> str:
    """The language of a file by its name; ``"text"`` when unknown."""
    suffix = path.suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix in TEXT_SUFFIXES:
        return TEXT_SUFFIXES[suffix]
    if path.name in ("CMakeLists.txt",):
        return "cmake"
    if path.name in ("Makefile", "Dockerfile"):
        return path.name.lower()
    return "text"


def normalize_language(name: str) -> str:
    lowered = name.strip().lower()
    return ALIASES.get(lowered, lowered)


def has_grammar(language: str) -> bool:
    return language in _QUERY_LANGUAGES


_QUERY_LANGUAGES = frozenset(EXTENSIONS.values())
_local = threading.local()


@cache
def query_source(language: str) -> str:
    return (resources.files("atoll.indexing") / "queries" / f"{language}.scm").read_text("utf-8")


def parser_and_query(language: str) -> tuple[Any, Any]:
    """This thread's (Parser, Query) for ``language``; raises LookupError if unsupported."""
    cache: dict[str, tuple[Any, Any]] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    found = cache.get(language)
    if found is None:
        if language not in _QUERY_LANGUAGES:
            raise LookupError(f"no grammar for {language}")
        from tree_sitter import Query
        from tree_sitter_language_pack import get_language, get_parser

        name: Any = language
        found = (get_parser(name), Query(get_language(name), query_source(language)))
        cache[language] = found
    return found
