"""Search/replace edits: exact, single-match, with the closest lines when they miss."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.agents import ToolError
from atoll.agents.edits import apply_edit

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


def test_exact_replacement() -> None:
    assert apply_edit(SOURCE, "    return a - b\n", "    return a - b - 0\n").endswith(
        "a - b - 0\n"
    )


def test_missing_search_names_the_closest_lines() -> None:
    with pytest.raises(ToolError) as info:
        apply_edit(SOURCE, "def sub(a,b):\n  return a-b\n", "x", path="m.py")
    message = str(info.value)
    assert "not found" in message and "m.py" in message
    assert "    5| def sub(a, b):" in message


def test_ambiguous_search_asks_for_more_context() -> None:
    with pytest.raises(ToolError, match="occurs 2 times"):
        apply_edit(SOURCE, "(a, b):", "(a, b, c):")


def test_empty_search_only_fills_an_empty_file() -> None:
    assert apply_edit("", "", "new\n") == "new\n"
    with pytest.raises(ToolError):
        apply_edit(SOURCE, "", "x")


_TEXT = st.text(alphabet="ab \n\tλ", max_size=40)


@given(
    prefix=_TEXT, middle=st.text(alphabet="XYZ", min_size=1, max_size=10), suffix=_TEXT, new=_TEXT
)
def test_a_unique_search_is_replaced_and_nothing_else_changes(
    prefix: str, middle: str, suffix: str, new: str
) -> None:
    text = prefix + middle + suffix
    assert apply_edit(text, middle, new) == prefix + new + suffix


@given(text=_TEXT, search=st.text(alphabet="abXλ\n", min_size=1, max_size=8), new=_TEXT)
def test_edit_either_applies_exactly_or_raises(text: str, search: str, new: str) -> None:
    try:
        out = apply_edit(text, search, new)
    except ToolError:
        assert text.count(search) != 1
        return
    assert text.count(search) == 1
    assert out == text.replace(search, new, 1)
