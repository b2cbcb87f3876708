"""Hybrid code search: FTS5/BM25 over chunk text and symbol names, plus vectors, fused by RRF."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Unpack

from atoll.codeindex import SearchScope
from atoll.indexing.files import from_db, to_db
from atoll.indexing.model import SearchHit
from atoll.indexing.names import words
from atoll.indexing.store import SymbolStore
from atoll.indexing.vectorside import VectorSide

log = logging.getLogger(__name__)
RRF_K = 60
# What FTS5's unicode61 tokenizer sees as one token: a run of letters and digits (it
# splits at `_`, so a snake_case query must be split the same way; one quoted term
# holding several tokens would be a phrase, which a detail=column index refuses).
_TERM = re.compile(r"[^\W_]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "is",
        "are",
        "be",
        "by",
        "with",
        "as",
        "at",
        "from",
        "that",
        "this",
        "it",
        "its",
        "if",
        "into",
        "return",
        "returns",
        "given",
    ]
)


def fts_query(text: str) -> str:
    """Any of the query's words (BM25 ranks documents holding more and rarer ones first)."""
    terms: list[str] = []
    for token in _TERM.findall(text):
        terms.append(token.lower())
        if not token.islower() and not token.isupper():
            terms.extend(words(token))  # totalUnits: also "total", "units" (the extra column)
    terms = [t for t in dict.fromkeys(terms) if t not in _STOP] or terms[:1]
    return " OR ".join(f'"{t}"' for t in terms[:32])


def rrf(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _normalize_prefix(prefix: str | None) -> str | None:
    if not prefix:
        return None
    cleaned = prefix.strip().removeprefix("./").strip("/")
    return cleaned or None


class HybridSearch:
    """Lexical (FTS5/BM25) and vector rankings of chunks, fused by reciprocal rank."""

    def __init__(self, store: SymbolStore, root: Path, vectors: VectorSide) -> None:
        self.store = store
        self.root = root
        self.vectors = vectors

    @property
    def vector_error(self) -> str:
        return self.vectors.error

    # -- search --------------------------------------------------------------------
    def lexical(self, query: str, n: int, language: str | None, prefix: str | None) -> list[int]:
        match = fts_query(query)
        if not match:
            return []
        where, params = ["chunks_fts MATCH ?"], [match]
        if language:
            where.append("f.language = ?")
            params.append(language)
        if prefix:
            where.append("(f.path = ? OR f.path LIKE ? ESCAPE '\\')")
            prefix = to_db(prefix)
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [prefix, escaped + "/%"]
        sql = (
            "SELECT c.cid FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
            f"JOIN files f ON f.id = c.file_id WHERE {' AND '.join(where)} "
            f"ORDER BY bm25(chunks_fts, 1.0, 0.5, 2.0, 1.0) LIMIT {int(n)}"
        )
        try:
            return [int(r[0]) for r in self.store.query(sql, params)]
        except Exception as exc:  # a query FTS5 cannot parse finds nothing
            log.debug("lexical search failed for %r: %s", query, exc)
            return []

    def search(
        self, query: str, k: int = 10, *, wait: bool = True, **scope: Unpack[SearchScope]
    ) -> list[SearchHit]:
        """The ``k`` best chunks; ``mode``: "hybrid", "lexical" or "vector".

        ``wait=False`` (the editor): a vector ranking only if the model is loaded
        already; the first such query starts loading it and is answered lexically.
        """
        if not query.strip() or k <= 0:
            return []
        language, prefix = scope.get("language"), _normalize_prefix(scope.get("path_prefix"))
        mode, depth = scope.get("mode", "hybrid"), max(k * 4, 40)
        rankings = []
        if mode in ("hybrid", "lexical"):
            rankings.append(self.lexical(query, depth, language, prefix))
        if mode in ("hybrid", "vector"):
            rankings.append(self.vectors.query(query, depth, language, prefix, wait=wait))
        return self._hits(rrf([r for r in rankings if r])[: k * 4], k)

    def _hits(self, fused: list[tuple[int, float]], k: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        seen: dict[tuple[str, str], int] = {}  # (path, symbol) -> its hit's position
        for cid, score in fused:
            rows = self.store.query(
                "SELECT f.path, f.language, c.sl, c.el, t.text, c.symbol FROM chunks c "
                "JOIN files f ON f.id = c.file_id JOIN chunks_fts t ON t.rowid = c.id "
                "WHERE c.cid = ? LIMIT 1",
                (cid,),
            )
            if not rows:
                continue  # a vector left behind by an interrupted run
            path, lang, sl, el, text, symbol = rows[0]
            if symbol and (str(path), str(symbol)) in seen:
                # Pieces of one definition are one answer: the best-ranked piece stands
                # for it, and a later one right next to it widens it.
                at = seen[(str(path), str(symbol))]
                hits[at] = self._widened(hits[at], str(path), int(sl), int(el), str(text))
                continue
            if len(hits) >= k:
                break
            if symbol:
                seen[(str(path), str(symbol))] = len(hits)
            hit = SearchHit(
                self.root / from_db(str(path)), str(lang), int(sl), int(el), str(text),
                str(symbol), round(score, 6),
            )  # fmt: skip
            hits.append(hit)
        return hits

    def _widened(self, hit: SearchHit, path: str, sl: int, el: int, text: str) -> SearchHit:
        """``hit`` grown by the piece ``sl..el`` when no other chunk lies between them
        (only blank lines do); else ``hit`` as it was."""
        if el < hit.start_line:
            gap, first, last = (el, hit.start_line), (sl, text), (hit.start_line, hit.text)
        elif sl > hit.end_line:
            gap, first, last = (hit.end_line, sl), (hit.start_line, hit.text), (sl, text)
        else:
            return hit
        between = self.store.query(
            "SELECT 1 FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE f.path = ? AND c.sl > ? AND c.sl < ? LIMIT 1",
            (path, gap[0], gap[1]),
        )
        if between:
            return hit
        joined = first[1] + "\n" * (gap[1] - gap[0]) + last[1]
        return replace(hit, start_line=first[0], end_line=max(el, hit.end_line), text=joined)
