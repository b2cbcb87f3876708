"""The language registry: one table of languages, read by indexing, completion and hover.

``for_path(path)`` and ``for_lsp_id(id)`` find a :class:`Language`; ``comment_marker``,
``normalize`` and ``query_source`` answer the common questions. Adding a language is one
entry in ``atoll/languages/table.py`` (and, for a parsed one, its ``queries/*.scm``).
"""

from atoll.languages.language import Language
from atoll.languages.registry import (
    TEXT,
    added,
    all_languages,
    comment_marker,
    for_lsp_id,
    for_path,
    get,
    install,
    normalize,
    query_source,
    register,
)

__all__ = [
    "TEXT",
    "Language",
    "added",
    "all_languages",
    "comment_marker",
    "for_lsp_id",
    "for_path",
    "get",
    "install",
    "normalize",
    "query_source",
    "register",
]
