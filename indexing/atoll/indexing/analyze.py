"""One file → its symbols, chunks and identifier counts. Runs in worker processes too."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from atoll.indexing.chunks import ast_chunks, line_chunks
from atoll.indexing.files import SkipFile, is_vendored, read_source
from atoll.indexing.languages import has_grammar, language_for, parser_and_query
from atoll.indexing.model import Chunk, Symbol
from atoll.indexing.names import identifier_counts, split_identifiers
from atoll.indexing.store import FileState
from atoll.indexing.symbols import extract_symbols

log = logging.getLogger(__name__)


@dataclass
class FileFacts:
    relative: str
    language: str
    state: FileState | None = None
    vendored: bool = False
    symbols: list[Symbol] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    refs: Counter[str] = field(default_factory=Counter)
    chunk_words: list[str] = field(default_factory=list)  # split identifiers per chunk
    unchanged: bool = False  # same hash as the index already holds
    skipped: str = ""  # why the file is not indexed
    error: str = ""  # a parse failure (the file still has line-window chunks)


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_text(
    path: Path,
    language: str,
    data: bytes,
    text: str,
    *,
    chunks: bool,
    chunk_tokens: int,
    line_windows: bool = False,
) -> tuple[list[Symbol], list[Chunk], str]:
    """Symbols and chunks of one text; never raises (a failure gives line-window chunks)."""
    if line_windows:  # fixed 40-line windows (the benchmark's baseline)
        windows = line_chunks(path, language, text, 0) if chunks else []
        symbols, _, error = parse_text(path, language, data, text, chunks=False, chunk_tokens=0)
        return symbols, windows, error
    if not has_grammar(language):
        return [], line_chunks(path, language, text, chunk_tokens) if chunks else [], ""
    try:
        parser, query = parser_and_query(language)
        tree = parser.parse(data)
        symbols = extract_symbols(path, language, data, tree, query)
        pieces = ast_chunks(path, language, text, tree, symbols, chunk_tokens) if chunks else []
        return symbols, pieces, ""
    except Exception as exc:  # a grammar bug must not stop the run
        log.warning("parsing %s failed: %s; indexed by lines only", path, exc)
        fallback = line_chunks(path, language, text, chunk_tokens) if chunks else []
        return [], fallback, f"{type(exc).__name__}: {exc}"


def analyze(
    root: Path,
    relative: str,
    *,
    max_bytes: int,
    chunk_tokens: int,
    known_hash: str = "",
    text: str | None = None,
    chunks: bool = True,
    line_windows: bool = False,
) -> FileFacts:
    """Everything the index stores about one file (``text``: an unsaved buffer)."""
    path = root / relative
    language = language_for(path)
    facts = FileFacts(relative, language, vendored=is_vendored(relative))
    try:
        if text is None:
            data, source = read_source(path, max_bytes)
            text = source.text
            if source.replaced:  # parse what we show: positions must match the text
                data = text.encode("utf-8")
        else:
            data = text.encode("utf-8", "surrogatepass")
        stat = path.stat() if path.exists() else None
    except SkipFile as exc:
        facts.skipped = str(exc)
        return facts
    except OSError as exc:
        facts.skipped = f"unreadable: {exc}"
        return facts
    digest = file_hash(data)
    facts.state = FileState(digest, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    if digest == known_hash:
        facts.unchanged = True
        return facts
    facts.symbols, facts.chunks, facts.error = parse_text(
        path,
        language,
        data,
        text,
        chunks=chunks,
        chunk_tokens=chunk_tokens,
        line_windows=line_windows,
    )
    facts.refs = identifier_counts(text)
    facts.chunk_words = [split_identifiers(c.text) for c in facts.chunks]
    return facts
