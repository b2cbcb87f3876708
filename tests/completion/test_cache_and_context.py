"""LRU cache, type-ahead, token windows (stable start), recent edits and snippets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atoll.completion.cache import LruCache, TypeAhead, context_key
from atoll.completion.context import (
    RecentEdits,
    SnippetFinder,
    fit,
    identifiers_near,
    prefix_window,
    suffix_window,
)
from atoll.completion.templates import ContextFile


def words(text: str) -> int:
    return len(text.split())


def test_lru_evicts_least_recent() -> None:
    cache = LruCache(2)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"
    cache.put("c", "3")
    assert cache.get("b") is None and cache.get("a") == "1" and cache.get("c") == "3"
    assert (cache.hits, cache.misses) == (3, 1)
    assert context_key("x", "y") != context_key("xy", "")


def test_typeahead_continues_only_a_matching_suggestion() -> None:
    ta = TypeAhead()
    ta.remember("u", "x = ", "\n", "compute(1)")
    assert ta.continuation("u", "x = com", "\n") == "pute(1)"
    assert ta.continuation("u", "x = cox", "\n") is None
    assert ta.continuation("u", "x = com", "\nother") is None  # the suffix changed
    assert ta.continuation("u", "x = compute(1)", "\n") is None  # all typed
    assert ta.continuation("v", "x = com", "\n") is None


def test_prefix_window_fits_budget_and_starts_on_a_grid_line() -> None:
    lines = [f"line {i} has some words" for i in range(100)]
    prefix = "\n".join(lines) + "\nx = "
    window = prefix_window(prefix, 60, words, grid=16)
    assert words(window) <= 60 and window.endswith("x = ")
    first = window.split("\n")[0]
    assert int(first.split()[1]) % 16 == 0
    # Typing on the cursor line does not move the start: the KV cache stays valid.
    assert prefix_window(prefix + "foo", 60, words, grid=16).split("\n")[0] == first


def test_suffix_window_keeps_whole_lines() -> None:
    suffix = ")\n" + "\n".join(f"a b c {i}" for i in range(50))
    window = suffix_window(suffix, 13, words)
    assert window.split("\n")[0] == ")"
    assert words(window) <= 13 and all(line.startswith("a b c") for line in window.split("\n")[1:])


def test_recent_edits_ring() -> None:
    ring = RecentEdits(size=2, radius=1)
    text = "a\nb\nc\nd\ne\nf"
    ring.record("one.py", text, 1)
    ring.record("one.py", text, 2)  # same region: replaces
    ring.record("two.py", text, 4)
    assert [s.path for s in ring.snippets("three.py")] == ["two.py", "one.py"]
    assert ring.snippets("one.py") == [ContextFile("two.py", "d\ne\nf")]


class FakeIndex:
    """A deterministic stand-in for WorkspaceIndex's two query methods."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calls = 0

    def definitions(self, name: str) -> list[Any]:
        self.calls += 1
        if name == "Inventory":
            return [_Sym("Inventory", self.root / "models.py", "class Inventory:", 20)]
        return []

    def search(self, query: str, k: int = 10) -> list[Any]:
        return [_Hit(self.root / "report.py", 0, 2, "def report(inv):\n    return 1", 1.0)]


class _Sym:
    def __init__(self, name: str, path: Path, signature: str, line: int) -> None:
        self.name, self.path, self.signature, self.start_line = name, path, signature, line


class _Hit:
    def __init__(self, path: Path, start: int, end: int, text: str, score: float) -> None:
        self.path, self.start_line, self.end_line, self.text, self.score = (
            path,
            start,
            end,
            text,
            score,
        )


def test_snippets_from_definitions_and_search_are_cached(tmp_path: Path) -> None:
    index = FakeIndex(tmp_path)
    finder = SnippetFinder(tmp_path)
    above = ["inv = Inventory()", "total = inv.total_value()"]
    found = finder.find(index, "main.py", above, skip_lines=(0, 10))
    assert ContextFile("models.py", "class Inventory:") in found
    assert ContextFile("report.py", "def report(inv):\n    return 1") in found
    calls = index.calls
    assert finder.find(index, "main.py", above, skip_lines=(0, 10)) == found
    assert index.calls == calls  # cached: typing on the cursor line costs nothing
    assert identifiers_near(above)[:2] == ["total_value", "inv"]


def test_fit_respects_the_budget_and_merges_by_file() -> None:
    items = [
        ContextFile("a.py", "x y z"),
        ContextFile("b.py", "1 2 3 4 5 6 7 8 9"),
        ContextFile("a.py", "w"),
    ]
    kept = fit(items, 15, words)
    assert kept == [ContextFile("a.py", "x y z\n\nw")]
