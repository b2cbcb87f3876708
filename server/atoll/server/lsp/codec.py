"""LSP positions to string indices at C speed, for every open document.

pygls converts UTF-16/UTF-8 columns by looping over a line's characters in Python, for
every incremental edit: on a minified file (one line of 20 MB) each keystroke took
seconds with the event loop blocked. These counters encode the line once instead (and
skip even that for ASCII), with the same results, including pygls's rounding of a
column inside a character up to the next one.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition, UnitCounter


class _Encoded(UnitCounter):
    def __init__(self, codec: str, unit: int) -> None:
        self.codec = codec
        self.unit = unit

    def code_units_for_char(self, char: str) -> int:
        return len(char.encode(self.codec, "surrogatepass")) // self.unit

    def num_units(self, chars: str) -> int:
        if chars.isascii():
            return len(chars)
        return len(chars.encode(self.codec, "surrogatepass")) // self.unit

    def column_from_utf32(self, line: str, column: int) -> int:
        return self.num_units(line[:column])

    def index_of(self, line: str, units: int) -> int:
        """The string index ``units`` code units into ``line`` (rounded up)."""
        if line.isascii():
            return min(units, len(line))
        data = line.encode(self.codec, "surrogatepass")[: units * self.unit]
        index = len(data.decode(self.codec, "ignore"))
        if self.num_units(line[:index]) < units and index < len(line):
            index += 1  # inside a character: pygls counts it as passed
        return index


class FastPositionCodec(PositionCodec):
    """pygls's codec with :class:`_Encoded` counters (UTF-32 needs none)."""

    def __init__(self, encoding: Any = types.PositionEncodingKind.Utf16) -> None:
        super().__init__(encoding)
        if encoding == types.PositionEncodingKind.Utf8:
            self.impl = _Encoded("utf-8", 1)
        elif encoding != types.PositionEncodingKind.Utf32:
            self.impl = _Encoded("utf-16-le", 2)

    def position_from_client_units(
        self, lines: Any, position: types.Position
    ) -> ServerTextPosition:
        impl = self.impl
        if not isinstance(impl, _Encoded):
            return super().position_from_client_units(lines, position)
        if len(lines) == 0:
            return ServerTextPosition(0, 0)
        if position.line >= len(lines):
            return ServerTextPosition(len(lines) - 1, impl.num_units(lines[-1]))
        line = lines[position.line].replace("\r\n", "\n")
        length = impl.num_units(line)
        if length == 0:
            return ServerTextPosition(position.line, 0)
        character = position.character if position.character <= length else length - 1
        return ServerTextPosition(position.line, impl.index_of(line, character))


def install(workspace: Any) -> None:
    """Use :class:`FastPositionCodec` for the documents ``workspace`` opens from now on."""
    workspace._position_codec = FastPositionCodec(workspace.position_encoding)
