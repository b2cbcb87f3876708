"""LRU cache, type-ahead, token windows (stable start), recent edits and snippets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atoll.completion.cache import LruCache, TypeAhead, context_key
from atoll.completion.context import RecentEdits, SnippetFinder, fit, identifiers_near
from atoll.completion.templates import ContextFile
from atoll.completion.window import blocks, cut, prefix_window, suffix_window


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
    ta.remember("u", 4, "x = ", "\n", "compute(1)")
    assert ta.continuation("u", 7, "x = com", "\n") == "pute(1)"
    assert ta.continuation("u", 7, "x = cox", "\n") is None
    assert ta.continuation("u", 7, "x = com", "\nother") is None  # the suffix changed
    assert ta.continuation("u", 14, "x = compute(1)", "\n") is None  # all typed
    assert ta.continuation("v", 7, "x = com", "\n") is None
    assert ta.continuation("u", 7, "y = com", "\n") is None  # the text before changed


def test_typeahead_works_on_bounded_text() -> None:
    # The engine hands it the last few thousand characters only: offsets are absolute.
    ta = TypeAhead()
    ta.remember("u", 10_004, "...x = ", "\n", "compute(1)")
    assert ta.continuation("u", 10_007, "x = com", "\n") == "pute(1)"


def test_prefix_window_fits_budget_and_starts_on_a_grid_line() -> None:
    lines = [f"line {i} has some words" for i in range(100)]
    prefix = "\n".join(lines) + "\nx = "
    window, start = prefix_window(prefix, 60, words, grid=16)
    assert words(window) <= 60 and window.endswith("x = ")
    first = window.split("\n")[0]
    assert int(first.split()[1]) % 16 == 0 and start == int(first.split()[1])
    # Typing on the cursor line does not move the start: the KV cache stays valid.
    assert prefix_window(prefix + "foo", 60, words, grid=16)[0].split("\n")[0] == first
    # The grid is absolute: the same window from a prefix cut elsewhere.
    later = "\n".join(lines[7:]) + "\nx = "
    assert prefix_window(later, 60, words, grid=16, first_line=7) == (window, start)


def test_blocks_split_at_absolute_grid_lines_and_join_back() -> None:
    window = "\n".join(f"l{i}" for i in range(20, 40))
    parts = blocks(window, 20, grid=16)
    assert "".join(parts) == window
    assert [p.split("\n")[0] for p in parts] == ["l20", "l32"]
    assert parts[0].endswith("l31\n") and parts[1].endswith("l39")


def test_cut_bounds_both_sides_and_counts_lines() -> None:
    text = "\n".join("x" * 50 for _ in range(1000))
    offset = len(text) // 2
    bound = cut(text, offset, 400, 300)
    assert len(bound.prefix) <= 400 and len(bound.suffix) == 300
    assert text[:offset].endswith(bound.prefix) and text[offset:].startswith(bound.suffix)
    assert text[offset - len(bound.prefix) - 1] == "\n"  # from a line start
    assert bound.first_line == text.count("\n", 0, offset - len(bound.prefix))
    one_line = "y" * 1_000_000
    huge = cut(one_line, len(one_line), 400, 300)
    assert (len(huge.prefix), huge.suffix, huge.first_line) == (400, "", 0)


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
    # At an offset: the same lines, found without splitting the text.
    ring.record("three.py", text, 4, text.index("e"))
    assert ring.snippets("x")[0] == ContextFile("three.py", "d\ne\nf")


def test_recent_edits_stay_small_on_a_huge_line() -> None:
    ring = RecentEdits(size=2, radius=6)
    text = "a = 1\n" + "z" * 5_000_000
    ring.record("min.js", text, 1, len(text))
    (snippet,) = ring.snippets("other.js")
    assert snippet.text == "a = 1\n" + "z" * RecentEdits.LINE_CHARS


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
