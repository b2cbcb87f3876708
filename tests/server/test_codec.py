"""The fast position codec answers exactly as pygls's own, on any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from atoll.server.lsp.codec import FastPositionCodec

ENCODINGS = [types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8]
TEXT = st.lists(st.sampled_from(["a", " ", "é", "中", "😀", "\n", "\r\n"]), max_size=40).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(
    text=TEXT,
    line=st.integers(0, 6),
    character=st.integers(0, 90),
    which=st.sampled_from(ENCODINGS),
)
def test_same_positions_as_pygls(text: str, line: int, character: int, which: str) -> None:
    lines = text.splitlines(keepends=True)
    slow, fast = PositionCodec(which), FastPositionCodec(which)
    position = types.Position(line, character)
    expected = slow.position_from_client_units(lines, types.Position(line, character))
    assert fast.position_from_client_units(lines, position) == expected
    for part in lines:
        assert fast.client_num_units(part) == slow.client_num_units(part)
        column = min(character, len(part))
        assert fast.impl.column_from_utf32(part, column) == slow.impl.column_from_utf32(
            part, column
        )


def test_a_huge_line_converts_in_one_pass() -> None:
    line = "var a=1;" * 2_500_000 + "é"
    codec = FastPositionCodec(types.PositionEncodingKind.Utf16)
    at = codec.position_from_client_units([line], types.Position(0, len(line)))
    assert at.character == len(line)
