"""One reader for a file's current text: the buffer first, the disk decoded one way."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.server.crew.edit import current_texts
from atoll.server.lsp.texts import OpenTexts, TextError, read_disk


def test_open_buffer_wins_over_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("on disk\n", encoding="utf-8")
    texts = OpenTexts({path: "unsaved\n"})
    assert texts.text(path) == "unsaved\n"
    assert OpenTexts({}).text(path) == "on disk\n"


def test_bytes_that_are_not_utf8_are_replaced_or_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9\n")
    assert read_disk(path) == "caf\ufffd\n"
    with pytest.raises(TextError) as refused:
        read_disk(path, strict=True)
    assert not refused.value.missing


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(TextError, match="binary"):
        read_disk(binary)
    with pytest.raises(TextError) as missing:
        read_disk(tmp_path / "nothing.py")
    assert missing.value.missing
    assert OpenTexts({}).get(binary) is None and OpenTexts({}).get(tmp_path / "nothing.py") is None


def test_the_crews_view_tells_absent_from_not_text(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00")
    current = current_texts(OpenTexts({}, strict=True))
    assert current(tmp_path / "absent.py") is None
    with pytest.raises(TextError):
        current(binary)
