from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from atoll.server.documents import _column_to_index

UTF16 = types.PositionEncodingKind.Utf16
UTF8 = types.PositionEncodingKind.Utf8
UTF32 = types.PositionEncodingKind.Utf32


def test_utf16_columns_count_surrogate_pairs() -> None:
    line = "a😀b"
    assert _column_to_index(line, 0, UTF16) == 0
    assert _column_to_index(line, 1, UTF16) == 1
    assert _column_to_index(line, 2, UTF16) is None  # inside the surrogate pair
    assert _column_to_index(line, 3, UTF16) == 2
    assert _column_to_index(line, 4, UTF16) == 3
    assert _column_to_index(line, 5, UTF16) is None


def test_utf8_and_utf32_columns() -> None:
    line = "é="
    assert _column_to_index(line, 2, UTF8) == 1
    assert _column_to_index(line, 1, UTF8) is None
    assert _column_to_index(line, 2, UTF32) == 2
    assert _column_to_index(line, 3, UTF32) is None


@given(st.text(max_size=30), st.integers(min_value=0, max_value=80))
def test_utf16_column_round_trip(line: str, character: int) -> None:
    index = _column_to_index(line, character, UTF16)
    if index is not None:
        assert len(line[:index].encode("utf-16-le")) // 2 == character
