"""One registry: a language added once works in indexing, completion and hover."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atoll import languages
from atoll.completion.context import comment_mark
from atoll.config import load_config
from atoll.explain import find_target, language_for
from atoll.indexing import WorkspaceIndex
from atoll.indexing.grammars import parser_and_query

JULIA_QUERY = "(function_definition (signature (call_expression . (identifier) @name))) @definition.function\n"
JULIA = """#= Greets people,
   greet_everyone included. =#
function greet_{i}(name)
    return name
end
"""


@pytest.fixture
def julia(tmp_path: Path) -> Iterator[languages.Language]:
    """Julia, which atoll does not ship, added the way an application would add it."""
    query = tmp_path / "julia.scm"
    query.write_text(JULIA_QUERY)
    lang = languages.Language(
        "julia", (".jl",), grammar="julia", query=str(query), comment="#", lsp_ids=("julia",)
    )
    remove = languages.register(lang)
    yield lang
    remove()


def test_every_parsed_language_has_a_query_that_compiles() -> None:
    parsed = [lang for lang in languages.all_languages() if lang.parses]
    assert {"python", "rust", "qmljs", "typescript", "tsx", "go"} <= {x.name for x in parsed}
    for lang in parsed:
        parser_and_query(lang.name)  # raises on a missing file or a bad query
    assert languages.get("tsx").query_name == "typescript"  # one query for both
    assert languages.for_path("a/b.TSX").name == "tsx"
    assert languages.normalize("QML") == "qmljs" and languages.for_lsp_id("qml") is not None
    assert languages.for_path("CMakeLists.txt").name == "cmake"


def test_comment_markers_come_from_the_registry() -> None:
    assert [comment_mark(p) for p in ("a.py", "b.rs", "q.sql", "Makefile", "x.unknown", "x")] == [
        "#", "//", "--", "#", "//", "#",
    ]  # fmt: skip


def test_an_added_language_works_in_indexing_completion_and_hover(
    julia: languages.Language, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    for i in range(70):  # enough for worker processes: they must know the language too
        (ws / f"greet{i}.jl").write_text(JULIA.format(i=i))
    cfg = load_config(
        ws,
        cli={
            "indexing.embeddings": "0",
            "indexing.workers": "2",
            "indexing.index_dir": str(tmp_path / "idx"),
        },
    ).config
    index = WorkspaceIndex.open(ws, cfg)
    try:
        stats = index.index_all()
        assert stats.failed == 0 and stats.symbols == 70
        [found] = index.definitions("greet_7")
        assert (found.language, found.kind_name, found.path.name) == (
            "julia",
            "function",
            "greet7.jl",
        )
        assert index.search("greet_everyone", language="julia")
    finally:
        index.close()
    assert comment_mark("x/greet1.jl") == "#"
    text = JULIA.format(i=1)
    path = ws / "greet1.jl"
    assert language_for(path) == "julia" and language_for(None, "julia") == "julia"
    inside_comment = text.index("greet_everyone")  # line 2 of a block comment
    assert find_target(text, inside_comment, language_for(path)) is None
    assert find_target(text, text.index("greet_1"), "julia") is not None
