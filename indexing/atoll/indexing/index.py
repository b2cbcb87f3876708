"""``WorkspaceIndex``: the one object completion, hover, agents and the server talk to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from atoll.config import AtollConfig
from atoll.indexing.model import IndexStats, SearchHit, Symbol

Progress = Callable[[int, int, str], None]


class WorkspaceIndex:
    """Symbols, chunks and vectors of one workspace folder. Thread-safe."""

    def __init__(self, root: Path, config: AtollConfig) -> None:
        self.root = root.resolve()
        self.config = config

    @classmethod
    def open(cls, root: Path, config: AtollConfig) -> WorkspaceIndex:
        """Open (or create) the index of ``root``; a corrupt database is set aside and rebuilt."""
        return cls(root, config)

    def index_all(self, progress: Progress | None = None) -> IndexStats:
        """Bring the index up to date with the files on disk; ``progress(done, total, path)``."""
        return IndexStats()

    def update_file(self, path: Path, text: str | None = None) -> None:
        """Re-index one file (from ``text`` when given, else from disk)."""

    def remove_file(self, path: Path) -> None:
        """Forget everything about one file."""

    def find_symbols(self, query: str, limit: int = 50) -> list[Symbol]:
        """Fuzzy ``workspace/symbol`` search: exact > prefix > subsequence."""
        return []

    def symbols_in_file(self, path: Path, text: str | None = None) -> list[Symbol]:
        """The symbols of one file, in source order; ``text`` is an unsaved buffer."""
        return []

    def definitions(self, name: str) -> list[Symbol]:
        """Symbols named exactly ``name`` (or whose qualified name is ``name``)."""
        return []

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        language: str | None = None,
        path_prefix: str | None = None,
    ) -> list[SearchHit]:
        """Hybrid (lexical + vector, RRF) code search."""
        return []

    def outline(self, budget_tokens: int = 1024, focus: Sequence[Path] = ()) -> str:
        """A ranked repository map cut to ``budget_tokens``."""
        return ""

    def close(self) -> None:
        """Release the database and the vector store."""
