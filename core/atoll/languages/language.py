"""One language's description: the fields the registry's table fills in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Language:
    """One language. Only ``name`` is required; a language without a grammar is text."""

    name: str  # the index's name for it ("python", "qmljs"), shown in search results
    extensions: tuple[str, ...] = ()  # lower-case, with the dot
    filenames: tuple[str, ...] = ()  # whole file names ("Makefile", "CMakeLists.txt")
    grammar: str = ""  # the tree-sitter-language-pack grammar; "" for none
    # The definitions query: a packaged ``queries/<query>.scm`` (default: the name), or
    # an absolute path to a ``.scm`` file (a language added outside atoll). Names joined
    # by "+" are read in turn: "c+cpp" is C's patterns, then C++'s own.
    query: str = ""
    comment: str = ""  # the line-comment marker; "" when the language has none
    lsp_ids: tuple[str, ...] = ()  # the editors' languageIds ("typescriptreact")
    aliases: tuple[str, ...] = ()  # what users type (`--lang qml`)
    # Chunking: "ast" cuts at definitions where the file parses, "lines" always in
    # line windows (a language without a grammar is always chunked by lines).
    chunking: Literal["ast", "lines"] = "ast"
    # Documentation is the first string in a definition's body (Python), else the
    # comment block right above it.
    docstrings: bool = False
    # An object is named by its ``id:`` binding when it has one (QML).
    object_ids: bool = False

    @property
    def parses(self) -> bool:
        """Whether tree-sitter parses it (symbols, AST chunks, hover's name check)."""
        return bool(self.grammar)

    @property
    def ast_chunks(self) -> bool:
        return self.parses and self.chunking == "ast"

    @property
    def query_name(self) -> str:
        return self.query or self.name
