"""atoll's knowledge core: tree-sitter symbols, AST chunks, embeddings, hybrid search.

The public surface is small: :class:`WorkspaceIndex` (open, index, query) and the plain
values it returns (:class:`Symbol`, :class:`SearchHit`, :class:`IndexStats`).
Completion, hover and the agents describe what they need from it with small protocols
of their own.
"""

from atoll.indexing.index import WorkspaceIndex
from atoll.indexing.lock import Holder
from atoll.indexing.model import Chunk, IndexStats, Progress, SearchHit, Symbol
from atoll.indexing.store import IndexBusyError, IndexClosedError, ReadOnlyIndexError

__all__ = [
    "Chunk",
    "Holder",
    "IndexBusyError",
    "IndexClosedError",
    "IndexStats",
    "Progress",
    "ReadOnlyIndexError",
    "SearchHit",
    "Symbol",
    "WorkspaceIndex",
]
