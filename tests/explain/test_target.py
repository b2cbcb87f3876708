"""Which identifier a hover is about, and when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.explain import find_target, language_for

PY = 'def add(a, b):\n    """Sum."""\n    return a + b  # add them\n\n\nx = add(1, 2)\ns = "add"\n'


def at(text: str, needle: str, shift: int = 0) -> int:
    return text.index(needle) + shift


@pytest.mark.parametrize("language", ["python", None])
def test_identifier_under_cursor_and_at_its_end(language: str | None) -> None:
    offset = at(PY, "add(1", 1)
    target = find_target(PY, offset, language)
    assert target is not None and target.name == "add"
    assert PY[target.start : target.end] == "add"
    end = find_target(PY, at(PY, "add(1", 3), language)
    assert end == target


@pytest.mark.parametrize("language", ["python", None])
@pytest.mark.parametrize(
    ("needle", "shift"),
    [
        ("    return", 1),  # indentation
        ("# add them", 3),  # a comment
        ('"add"', 2),  # a string
        ("return", 2),  # a keyword
        ("\n\n\n", 1),  # an empty line
        ("(1, 2)", 1),  # a number
    ],
)
def test_no_target(language: str | None, needle: str, shift: int) -> None:
    assert find_target(PY, at(PY, needle, shift), language) is None


def test_code_inside_an_f_string_is_a_target() -> None:
    text = 'print(f"total: {add(1, 2)} add")\n'
    target = find_target(text, at(text, "add(1", 1), "python")
    assert target is not None and target.name == "add"
    assert find_target(text, at(text, "} add", 3), "python") is None


def test_docstring_is_not_a_target() -> None:
    assert find_target(PY, at(PY, "Sum", 1), "python") is None


def test_rust_and_qml() -> None:
    rust = "/// Doc.\npub fn total(x: u32) -> u32 { x } // total\nlet y = total(1);\n"
    assert find_target(rust, at(rust, "total(1", 2), "rust") is not None
    assert find_target(rust, at(rust, "// total", 4), "rust") is None
    assert find_target(rust, at(rust, "Doc", 1), "rust") is None
    qml = 'Item {\n    // width here\n    width: 10\n    Text { text: "width" }\n}\n'
    assert find_target(qml, at(qml, "width: 10", 1), "qmljs") is not None
    assert find_target(qml, at(qml, "width here", 1), "qmljs") is None
    assert find_target(qml, at(qml, '"width"', 2), "qmljs") is None


def test_language_from_suffix_then_language_id() -> None:
    assert language_for(Path("a.py")) == "python"
    assert language_for(Path("a.qml")) == "qmljs"
    assert language_for(Path("a.unknown"), "qml") == "qmljs"
    assert language_for(None) is None


@given(st.text(), st.integers(min_value=-5, max_value=300))
def test_never_raises_and_target_is_a_word_of_the_text(text: str, offset: int) -> None:
    target = find_target(text, offset, "python")
    if target is not None:
        assert text[target.start : target.end] == target.name
        assert target.name.isidentifier()
