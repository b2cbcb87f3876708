"""LSP positions ↔ Python offsets in the three encodings, against hand-made cases and
round trips over arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from atoll.server.lsp.positions import (
    UTF8,
    UTF16,
    UTF32,
    PositionError,
    index_at,
    line_end,
    offset_at,
    position_at,
    range_at,
    units,
)

ENCODINGS = st.sampled_from([UTF8, UTF16, UTF32])
# Lines with line breaks of every kind LSP knows, astral characters and lone surrogates.
TEXT = st.lists(
    st.sampled_from(["a", "é", "😀", "\n", "\r\n", "\r", "\t", "\ud800", "中"]), max_size=20
).map("".join)


def test_utf16_columns_count_surrogate_pairs() -> None:
    line = "a😀b"
    assert [index_at(line, c, UTF16) for c in range(6)] == [0, 1, None, 2, 3, None]


def test_utf8_and_utf32_columns() -> None:
    line = "é="
    assert index_at(line, 2, UTF8) == 1
    assert index_at(line, 1, UTF8) is None  # inside the two bytes of é
    assert index_at(line, 2, UTF32) == 2
    assert index_at(line, 3, UTF32) is None
    assert index_at(line, -1, UTF32) is None


def test_units_of_each_encoding() -> None:
    assert [units("a😀é", e) for e in (UTF8, UTF16, UTF32)] == [7, 4, 3]
    assert units("\ud800", UTF16) == 1  # a lone surrogate (JSON can carry one) counts, not raises


def test_offset_at_refuses_positions_past_the_end() -> None:
    text = "ab\ncd\n"
    assert offset_at(text, types.Position(1, 2), UTF16) == 5
    assert offset_at(text, types.Position(2, 0), UTF16) == 6
    for bad in (types.Position(0, 3), types.Position(2, 1), types.Position(3, 0)):
        with pytest.raises(PositionError):
            offset_at(text, bad, UTF16)


def test_line_end_and_ranges() -> None:
    text = "x😀\r\ny"
    assert line_end(text, 0, UTF16) == types.Position(0, 3)
    assert line_end(text, 0, UTF8) == types.Position(0, 5)
    assert line_end(text, 2, UTF16) is None
    assert range_at(text, 1, 2, UTF16) == types.Range(types.Position(0, 1), types.Position(0, 3))
    assert position_at(text, len(text), UTF16) == types.Position(1, 1)
    assert position_at("a\n", 2, UTF16) == types.Position(1, 0)
    assert position_at("a\r\n", 2, UTF16) == types.Position(0, 1)  # inside the line break


@given(TEXT, st.integers(min_value=0, max_value=40), ENCODINGS)
def test_position_and_offset_round_trip(text: str, offset: int, encoding: str) -> None:
    offset = min(offset, len(text))
    if text[:offset].endswith("\r") and text[offset:].startswith("\n"):
        offset -= 1  # between \r and \n is no position at all
    assert offset_at(text, position_at(text, offset, encoding), encoding) == offset


@given(TEXT, st.integers(min_value=0, max_value=80), ENCODINGS)
def test_index_at_inverts_units(line: str, character: int, encoding: str) -> None:
    line = line.splitlines()[0] if line.splitlines() else ""
    index = index_at(line, character, encoding)
    if index is not None:
        assert units(line[:index], encoding) == character
    else:
        assert character > units(line, encoding) or all(
            units(line[:i], encoding) != character for i in range(len(line) + 1)
        )
