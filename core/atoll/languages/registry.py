"""The language registry: what atoll knows about each language, looked up one way.

Indexing (which files, which grammar and definitions query, how to chunk), completion
(the line-comment marker) and hover (which grammar tells a name from a comment, the
editor's ``languageId``) all ask here, so a language added to :data:`TABLE` works in
all three at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path, PurePath

from atoll.languages.language import Language
from atoll.languages.table import TABLE

TEXT = Language("text")


class _Lookup:
    """The table's indexes; rebuilt whenever a language is added or removed."""

    def __init__(self, languages: Iterable[Language]) -> None:
        self.languages: dict[str, Language] = {}
        self.by_suffix: dict[str, Language] = {}
        self.by_filename: dict[str, Language] = {}
        self.by_lsp_id: dict[str, Language] = {}
        self.aliases: dict[str, str] = {}
        for lang in languages:
            self.languages[lang.name] = lang
            for suffix in lang.extensions:
                self.by_suffix[suffix.lower()] = lang
            for filename in lang.filenames:
                self.by_filename[filename] = lang
            for lsp_id in (lang.name, *lang.lsp_ids):
                self.by_lsp_id.setdefault(lsp_id, lang)
            for alias in lang.aliases:
                self.aliases[alias] = lang.name


_BUILTIN: tuple[Language, ...] = TABLE
_added: list[Language] = []
_lock = threading.Lock()
_current = _Lookup(_BUILTIN)


def _rebuild() -> None:
    global _current
    _current = _Lookup((*_BUILTIN, *_added))
    query_source.cache_clear()


def register(language: Language) -> Callable[[], None]:
    """Add (or replace) a language at run time; returns the function that removes it.

    The table in ``table.py`` is where atoll's own languages live; this is for a
    language brought by a test or an embedding application. The indexer hands added
    languages to its worker processes.
    """
    with _lock:
        _added[:] = [lang for lang in _added if lang.name != language.name]
        _added.append(language)
        _rebuild()

    def remove() -> None:
        with _lock:
            if language in _added:
                _added.remove(language)
                _rebuild()

    return remove


def added() -> tuple[Language, ...]:
    """The languages registered at run time (what a worker process must register too)."""
    return tuple(_added)


def install(languages: Iterable[Language]) -> None:
    """Register ``languages`` in this process (a worker process's initializer)."""
    for language in languages:
        register(language)


def all_languages() -> list[Language]:
    return list(_current.languages.values())


def get(name: str) -> Language:
    """The language named ``name`` (or one of its aliases); the text language when unknown."""
    found = _current.languages.get(normalize(name))
    return found if found is not None else TEXT


def for_path(path: PurePath | str) -> Language:
    """The language of a file by its name; the text language when unknown."""
    pure = PurePath(path)
    found = _current.by_filename.get(pure.name) or _current.by_suffix.get(pure.suffix.lower())
    return found if found is not None else TEXT


def for_lsp_id(language_id: str) -> Language | None:
    """The language an editor means by ``languageId`` ("qml", "typescriptreact"), if known."""
    return _current.by_lsp_id.get(language_id)


def normalize(name: str) -> str:
    """A user's spelling (``qml``, ``py``, ``C++``) → the index's name."""
    lowered = name.strip().lower()
    return _current.aliases.get(lowered, lowered)


def comment_marker(path: PurePath | str) -> str:
    """The line-comment marker of a file.

    Languages without one (and unknown files) get ``//`` when the name has a suffix,
    ``#`` when it has none (scripts, ``Makefile``-like files).
    """
    marker = for_path(path).comment
    return marker or ("//" if PurePath(path).suffix else "#")


@cache
def query_source(name: str) -> str:
    """The text of a language's definitions query; raises LookupError when it has none."""
    lang = get(name)
    if not lang.parses:
        raise LookupError(f"no grammar for {name}")
    return "\n".join(_query_file(part) for part in lang.query_name.split("+"))


def _query_file(query: str) -> str:
    if query.endswith(".scm") and Path(query).is_absolute():
        return Path(query).read_text("utf-8")
    return (resources.files("atoll.languages") / "queries" / f"{query}.scm").read_text("utf-8")
