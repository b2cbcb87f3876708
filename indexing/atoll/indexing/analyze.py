"""One file → the rows the index stores about it. Runs in worker processes too.

The worker does everything but the database: parsing, chunking, the search words of
each symbol and chunk, chunk ids, identifier counts. What it hands back is plain tuples
(cheap to pickle across processes), so the single writer only runs SQL.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from atoll import languages
from atoll.indexing.chunks import ast_chunks, line_chunks
from atoll.indexing.files import SkipFile, is_vendored, read_source, shown, to_db
from atoll.indexing.grammars import parser_and_query
from atoll.indexing.model import Chunk, Symbol
from atoll.indexing.names import (
    camel_identifiers,
    camel_words,
    identifier_counts,
    search_terms,
)
from atoll.indexing.symbols import extract_symbols

log = logging.getLogger(__name__)

# (name, kind, container, sl, sc, el, ec, nsl, nsc, nel, nec, signature, doc, fts words)
SymbolRow = tuple[str, int, str, int, int, int, int, int, int, int, int, str, str, str]
# (id, symbol, start line, end line, content hash, text, fts extra words, context)
ChunkRow = tuple[int, str, int, int, str, str, str, str]


@dataclass(frozen=True)
class FileState:
    hash: str
    mtime_ns: int
    size: int


@dataclass
class FileFacts:
    relative: str
    language: str
    state: FileState | None = None
    vendored: bool = False
    symbols: list[SymbolRow] = field(default_factory=list)
    chunks: list[ChunkRow] = field(default_factory=list)
    # Identifier counts for the reference totals; from a worker, the first file of its
    # group carries the whole group's (see full_run._analyze_group).
    refs: dict[str, int] = field(default_factory=dict)
    refs_blob: str = ""  # this file's own counts as the index stores them
    unchanged: bool = False  # same hash as the index already holds
    skipped: str = ""  # why the file is not indexed
    error: str = ""  # a parse failure (the file still has line-window chunks)


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def encode_refs(counts: dict[str, int]) -> str:
    return "\n".join([f"{name}\t{n}" for name, n in counts.items()])


def decode_refs(blob: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in blob.splitlines():
        name, _, n = line.partition("\t")
        if n:
            counts[name] = int(n)
    return counts


def chunk_id(relative: str, content: str, occurrence: int) -> int:
    """A stable 63-bit id: the same chunk text in the same file keeps its id (and vector)."""
    key = f"{to_db(relative)}\0{content}\0{occurrence}"  # to_db: valid UTF-8 for any name
    digest = hashlib.blake2b(key.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") >> 1


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
    lang = languages.get(language)
    if line_windows or not lang.ast_chunks:
        # Fixed windows: the benchmark's baseline, and languages chunked by lines.
        windows = line_chunks(path, language, text, 0 if line_windows else chunk_tokens)
        if lang.parses:
            symbols, _, error = parse_text(path, language, data, text, chunks=False, chunk_tokens=0)
            return symbols, windows if chunks else [], error
        return [], windows if chunks else [], ""
    try:
        parser, query = parser_and_query(language)
        tree = parser.parse(data)
        symbols = extract_symbols(path, lang, data, tree, query)
        pieces = ast_chunks(path, language, text, symbols, chunk_tokens) if chunks else []
        return symbols, pieces, ""
    except Exception as exc:  # a grammar bug must not stop the run
        log.warning("parsing %s failed: %s; indexed by lines only", shown(str(path)), exc)
        fallback = line_chunks(path, language, text, chunk_tokens) if chunks else []
        return [], fallback, f"{type(exc).__name__}: {exc}"


def symbol_rows(symbols: list[Symbol]) -> list[SymbolRow]:
    return [
        (
            s.name,
            s.kind,
            s.container,
            s.start_line,
            s.start_col,
            s.end_line,
            s.end_col,
            s.sel_start_line,
            s.sel_start_col,
            s.sel_end_line,
            s.sel_end_col,
            s.signature,
            s.doc,
            search_terms(s.name),
        )
        for s in symbols
    ]


def chunk_rows(relative: str, chunks: list[Chunk], camel: dict[str, str]) -> list[ChunkRow]:
    seen: Counter[str] = Counter()
    rows: list[ChunkRow] = []
    place = shown(relative)
    for c in chunks:
        occurrence = seen[c.content_hash]
        seen[c.content_hash] += 1
        rows.append(
            (
                chunk_id(relative, c.content_hash, occurrence),
                c.symbol,
                c.start_line,
                c.end_line,
                c.content_hash,
                c.text,
                camel_words(c.text, camel),
                # The file is part of every chunk's context: "inventory/models.py".
                f"{place} | {c.context}" if c.context else place,
            )
        )
    return rows


def _buffer_bytes(text: str) -> tuple[bytes, str]:
    """An editor buffer's bytes; a lone surrogate (JSON allows them) becomes ``?``."""
    try:
        return text.encode("utf-8"), text
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
        return data, data.decode("utf-8")


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
    language = languages.for_path(relative).name
    facts = FileFacts(relative, language, vendored=is_vendored(relative))
    st: os.stat_result | None
    if text is None:
        try:
            data, source, st = read_source(path, max_bytes)
        except SkipFile as exc:
            facts.skipped = str(exc)
            return facts
        text = source.text
        if source.replaced:  # parse what we show: positions must match the text
            data = text.encode("utf-8")
    else:
        data, text = _buffer_bytes(text)
        try:
            st = os.stat(path)
        except OSError:
            st = None  # a buffer not saved yet
    digest = file_hash(data)
    facts.state = FileState(digest, st.st_mtime_ns if st else 0, st.st_size if st else 0)
    if digest == known_hash:
        facts.unchanged = True
        return facts
    symbols, pieces, facts.error = parse_text(
        path,
        language,
        data,
        text,
        chunks=chunks,
        chunk_tokens=chunk_tokens,
        line_windows=line_windows,
    )
    facts.refs = identifier_counts(text)
    facts.refs_blob = encode_refs(facts.refs)
    facts.symbols = symbol_rows(symbols)
    facts.chunks = chunk_rows(relative, pieces, camel_identifiers(facts.refs))
    return facts
