"""Random bytes through the indexer: no crash, no hang, nothing written outside .atoll."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.config import load_config
from atoll.indexing import WorkspaceIndex

EXTENSIONS = [".py", ".rs", ".qml", ".js", ".ts", ".tsx", ".c", ".cpp", ".go", ".java", ".txt", ""]
SOURCE_LIKE = st.sampled_from(
    [
        b"def f(:\n",
        b"class A:\n  def",
        b"fn main() { let x = ",
        b"Item { id: x; ",
        b"}}}}{{{",
        b"\xff\xfe\x00",
        b"/* unterminated",
        b'"""',
        b"\t\t\r\n",
        "é😀".encode(),
    ]
)


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".atoll" not in p.relative_to(root).parts
    }


files = st.lists(
    st.tuples(
        st.sampled_from(EXTENSIONS),
        st.lists(st.one_of(st.binary(max_size=200), SOURCE_LIKE), max_size=6).map(b"".join),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=files, edit=st.binary(max_size=300), query=st.text(max_size=30))
def test_random_files_index_update_and_query(
    files: list[tuple[str, bytes]], edit: bytes, query: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, (ext, data) in enumerate(files):
            (root / f"f{i}{ext}").write_bytes(data)
        before = digest(root)
        config = load_config(root, env={"ATOLL_INDEXING_EMBEDDINGS": "0"}).config
        index = WorkspaceIndex.open(root, config)
        try:
            stats = index.index_all()
            assert stats.files <= len(files)
            target = root / f"f0{files[0][0]}"
            # An unsaved buffer with arbitrary (decoded) text, then the file on disk.
            index.symbols_in_file(target, edit.decode("utf-8", "replace"))
            target.write_bytes(edit)
            before[target.name] = hashlib.sha256(edit).hexdigest()
            index.update_file(target)
            index.find_symbols(query)
            index.search(query, k=5)
            index.definitions(query)
            index.outline(256)
            index.remove_file(target)
        finally:
            index.close()
        assert digest(root) == before
        assert {p.name for p in root.iterdir()} - {p.split("/")[0] for p in before} <= {".atoll"}
