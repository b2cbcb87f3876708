"""``workspace/symbol`` ranking: exact > prefix > word prefix > subsequence, own code first."""

from __future__ import annotations

import math
import re
import threading
import time
from pathlib import Path

from atoll.indexing.files import from_db
from atoll.indexing.model import Symbol
from atoll.indexing.names import subsequence_pattern
from atoll.indexing.store import SYMBOL_COLUMNS, SYMBOL_FROM, Row, SymbolStore

CANDIDATES = 300
SUBSEQUENCE_BELOW = 20  # fuzzy (subsequence) matches only when the better tiers found few
NAMES_TTL_S = 3.0
_FTS_SAFE = re.compile(r"[^\w]+", re.UNICODE)


def row_to_symbol(root: Path, row: Row) -> Symbol:
    """A symbol from a row of ``SYMBOL_COLUMNS``: name, kind, container, path, language,
    the eight line and column numbers (its span, then its name's), signature, doc,
    references."""
    head = (str(row[0]), int(row[1]), str(row[2]), root / from_db(str(row[3])), str(row[4]))
    sl, sc, el, ec, nsl, nsc, nel, nec = (int(n) for n in row[5:13])
    tail = (str(row[13]), str(row[14]), int(row[15]))
    return Symbol(*head, sl, sc, el, ec, nsl, nsc, nel, nec, *tail)


class SymbolSearch:
    """Fuzzy symbol search over a :class:`SymbolStore`."""

    def __init__(self, store: SymbolStore, root: Path) -> None:
        self.store = store
        self.root = root
        self._names: tuple[int, dict[str, str]] = (-1, {})
        self._built = 0.0
        self._lock = threading.Lock()

    def _all_names(self) -> dict[str, str]:
        """Distinct lower-cased names by first letter, one per line (cached per generation)."""
        with self._lock:
            generation = self.store.generation
            # While a run writes, rebuild at most every few seconds.
            stale = self._names[0] != generation
            if stale and (not self.store.bulk or time.monotonic() - self._built > NAMES_TTL_S):
                groups: dict[str, list[str]] = {}
                for (name,) in self.store.query("SELECT DISTINCT lname FROM symbols"):
                    groups.setdefault(str(name)[:1], []).append(str(name))
                self._names = (generation, {k: "\n".join(v) for k, v in groups.items()})
                self._built = time.monotonic()
            return self._names[1]

    def _rows(self, where: str, params: tuple[object, ...], limit: int) -> list[Row]:
        sql = f"SELECT {SYMBOL_COLUMNS} FROM {SYMBOL_FROM} WHERE {where} LIMIT {limit}"
        return self.store.query(sql, params)

    def find(self, query: str, limit: int) -> list[Symbol]:
        q = query.strip()
        if not q:
            rows = self.store.query(
                f"SELECT {SYMBOL_COLUMNS} FROM {SYMBOL_FROM} WHERE s.kind IN (5, 23, 11, 10, 2) "
                f"ORDER BY f.vendored, coalesce(r.n, 0) DESC LIMIT {int(limit)}"
            )
            return [row_to_symbol(self.root, r) for r in rows]
        leaf = q.rsplit(".", 1)[-1] or q
        lowered = leaf.lower()
        ranked: dict[tuple[object, ...], tuple[tuple[float, ...], Row]] = {}

        def add(rows: list[Row], tier: int) -> None:
            for row in rows:
                name = str(row[0])
                exact_case = 0 if name == leaf or name.startswith(leaf) else 1
                refs = int(row[15])
                score = (tier, int(row[16]), exact_case, -math.log1p(refs), len(name))
                key = (row[3], row[5], row[6], row[0])
                if key not in ranked or ranked[key][0] > score:
                    ranked[key] = (score, row)

        add(self._rows("s.lname = ?", (lowered,), CANDIDATES), 0)
        add(self._rows("s.lname > ? AND s.lname < ?", (lowered, lowered + "\uffff"), CANDIDATES), 1)
        terms = [t for t in _FTS_SAFE.split(lowered) if t]
        if terms and len(ranked) < CANDIDATES:
            match = " ".join(f'"{t}"*' for t in terms)
            add(
                self._rows(
                    "s.id IN (SELECT rowid FROM symbols_fts WHERE symbols_fts MATCH ? "
                    f"LIMIT {CANDIDATES})",
                    (match,),
                    CANDIDATES,
                ),
                2,
            )
        if len(ranked) < min(limit, SUBSEQUENCE_BELOW) and len(lowered) >= 2:
            pattern = subsequence_pattern(lowered)
            names = []
            # Fuzzy matches must start with the query's first letter (as editors' pickers do).
            for m in pattern.finditer(self._all_names().get(lowered[:1], "")):
                names.append(m.group(0))
                if len(names) >= CANDIDATES:
                    break
            if names:
                marks = ",".join("?" * len(names))
                add(self._rows(f"s.lname IN ({marks})", tuple(names), CANDIDATES), 3)
        if "." in q:
            # `Inventory.add`: prefer symbols whose container matches the qualifier.
            qualifier = q.rsplit(".", 1)[0].lower()
            for key, (score, row) in list(ranked.items()):
                if not str(row[2]).lower().endswith(qualifier):
                    ranked[key] = ((score[0] + 4, *score[1:]), row)
        best = sorted(ranked.values(), key=lambda item: item[0])[:limit]
        return [row_to_symbol(self.root, row) for _, row in best]
