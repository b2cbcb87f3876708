"""atoll's knowledge core: tree-sitter symbols, AST chunks, embeddings, hybrid search.

The public surface is small: :class:`WorkspaceIndex` (open, index, query), the plain
values it returns (:class:`Symbol`, :class:`SearchHit`, :class:`IndexStats`) and the
:class:`Retriever` / :class:`SymbolLookup` protocols that completion, hover and the
agents depend on instead of the concrete index.
"""

from atoll.indexing.index import WorkspaceIndex
from atoll.indexing.model import Chunk, IndexStats, SearchHit, Symbol
from atoll.indexing.protocols import Retriever, SymbolLookup
from atoll.indexing.store import IndexClosedError

__all__ = [
    "Chunk",
    "IndexClosedError",
    "IndexStats",
    "Retriever",
    "SearchHit",
    "Symbol",
    "SymbolLookup",
    "WorkspaceIndex",
]
