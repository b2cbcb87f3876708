"""Symbols and chunks per language; arbitrary text never breaks parsing."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from atoll import languages
from atoll.indexing.analyze import parse_text
from atoll.indexing.chunks import embedding_views, estimate_tokens, line_chunks
from atoll.indexing.names import search_terms, subsequence_pattern

SOURCES = {
    "x.go": "package m\n\n// Point is a point.\ntype Point struct {\n\tX int\n}\n\n"
    "// Len is its length.\nfunc (p *Point) Len() int { return p.X }\n",
    "x.cpp": "namespace geo {\n/** A shape. */\nclass Shape {\n public:\n  double area() const;\n};\n"
    "double Shape::area() const { return 0; }\n}\n",
    "x.ts": "/** Greets. */\nexport function greet(n: string): string { return n; }\n"
    "export class Greeter { hello(): void {} }\ninterface Opts { a: number }\n",
    "X.java": "/** Doc. */\npublic class X { private int y; public X() {} void run() {} }\n",
    "x.js": "class A { m() {} }\nfunction f() {}\nconst g = () => 1;\n",
    "x.c": "/* Adds. */\nint add(int a, int b) { return a + b; }\nstruct P { int x; };\n#define N 3\n",
}
EXPECTED = {
    "x.go": {
        ("Point", "Point", "Point is a point.", 23),
        ("X", "Point.X", "", 8),
        ("Len", "Point.Len", "Len is its length.", 6),
    },
    "x.cpp": {("Shape", "geo.Shape", "A shape.", 5), ("area", "geo.Shape.area", "", 6)},
    "x.ts": {
        ("greet", "greet", "Greets.", 12),
        ("hello", "Greeter.hello", "", 6),
        ("Opts", "Opts", "", 11),
    },
    "X.java": {("X", "X", "Doc.", 5), ("run", "X.run", "", 6), ("y", "X.y", "", 8)},
    "x.js": {("A", "A", "", 5), ("m", "A.m", "", 6), ("f", "f", "", 12), ("g", "g", "", 13)},
    "x.c": {("add", "add", "Adds.", 12), ("P", "P", "", 23), ("N", "N", "", 14)},
}


def symbols_of(name: str, text: str) -> list[tuple[str, str, str, int]]:
    path = Path("/ws") / name
    language = languages.for_path(path).name
    found, _, error = parse_text(path, language, text.encode(), text, chunks=False, chunk_tokens=0)
    assert not error
    return [(s.name, s.qualified_name, s.doc, s.kind) for s in found]


def test_symbols_in_each_language() -> None:
    for name, text in SOURCES.items():
        got = set(symbols_of(name, text))
        missing = EXPECTED[name] - got
        assert not missing, (name, missing, got)


def test_cpp_finds_what_c_finds_too() -> None:
    """C++ reads C's definitions query before its own: C's forms are found in a .cpp."""
    text = "int twice(int x) { return 2 * x; }\nstruct Pt { int x; };\n#define LIMIT 4\n"
    assert set(symbols_of("x.cpp", text)) == set(symbols_of("x.c", text))
    assert {name for name, *_ in symbols_of("x.cpp", text)} == {"twice", "Pt", "LIMIT"}


def test_chunks_respect_the_budget_and_keep_comments() -> None:
    body = "\n".join(
        f"# helper number {i}\ndef helper_{i}(x):\n"
        + "".join(f"    x += {j}\n" for j in range(12))
        + "    return x\n"
        for i in range(30)
    )
    path = Path("/ws/m.py")
    _, chunks, _ = parse_text(path, "python", body.encode(), body, chunks=True, chunk_tokens=128)
    assert len(chunks) > 10
    assert all(estimate_tokens(c.text) <= 256 for c in chunks)
    assert all(c.text.lstrip().startswith("# helper") for c in chunks)
    assert all(c.symbol.startswith("helper_") for c in chunks)
    starts = [c.start_line for c in chunks]
    assert starts == sorted(starts)


def test_names_and_fuzzy_pattern() -> None:
    assert search_terms("getHTTPResponse_code").split() == [
        "gethttpresponse_code",
        "get",
        "http",
        "response",
        "code",
        "gethttpresponsecode",
        "ghrc",
    ]
    assert subsequence_pattern("fmtc").findall("format_cents\nfoo\nfmt") == ["format_cents"]


PARSED_SUFFIXES = sorted(
    suffix for lang in languages.all_languages() if lang.parses for suffix in lang.extensions
)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400), suffix=st.sampled_from(PARSED_SUFFIXES))
def test_any_text_parses_without_raising(text: str, suffix: str) -> None:
    path = Path("/ws/f" + suffix)
    symbols, chunks, _ = parse_text(
        path,
        languages.for_path(path).name,
        text.encode("utf-8", "surrogatepass"),
        text,
        chunks=True,
        chunk_tokens=64,
    )
    lines = text.split("\n")
    for c in chunks:
        assert 0 <= c.start_line <= c.end_line < len(lines)
    for s in symbols:
        assert s.start_line <= s.sel_start_line <= s.end_line


def test_line_windows() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    windows = line_chunks(Path("/ws/a.txt"), "text", text, 0)
    assert [(w.start_line, w.end_line) for w in windows] == [(0, 39), (40, 79), (80, 99)]


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.text(st.characters(exclude_characters="\n"), max_size=90), max_size=60),
    max_bytes=st.integers(40, 400),
    limit=st.integers(1, 5),
)
def test_embedding_views_cover_the_text_in_order(
    lines: list[str], max_bytes: int, limit: int
) -> None:
    text = "\n".join(lines)
    views = embedding_views(text, max_bytes, limit)
    assert "\n".join(views) == text  # whole lines, in order, nothing lost
    assert 1 <= len(views) <= limit
    for view in views[:-2]:  # only the last two may hold a long line, the rest, a tail
        assert len(view) <= max_bytes or "\n" not in view


def test_a_long_chunk_has_a_view_per_part() -> None:
    text = "\n".join(f"    value_{i} = compute(value_{i - 1})" for i in range(60))
    views = embedding_views(text)
    assert len(views) == 3 and all(len(v) <= 800 for v in views[:-1])
    assert embedding_views("def f(): ...") == ["def f(): ..."]
