"""Both vector stores behind one interface: Qdrant Edge, and qdrant-client (local mode stands
in for a Qdrant server: same client API)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from atoll.indexing.vectors import (
    ClientVectorStore,
    EdgeVectorStore,
    VectorStore,
    dir_prefixes,
    view_ids,
)

DIM = 8


def make(kind: str, folder: Path) -> VectorStore:
    if kind == "edge":
        return EdgeVectorStore(folder / "shard", DIM)
    return ClientVectorStore(DIM, path=folder / "local")


def unit(i: int) -> list[float]:
    rng = random.Random(i)
    v = [rng.uniform(-1, 1) for _ in range(DIM)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


@pytest.mark.parametrize("kind", ["edge", "client"])
def test_upsert_filter_delete_and_reopen(kind: str, tmp_path: Path) -> None:
    store = make(kind, tmp_path)
    paths = ["src/a.py", "src/lib/b.rs", "qml/Main.qml", "src/c.py"]
    langs = ["python", "rust", "qmljs", "python"]
    ids = [11, 2**62 + 3, 7, 99]
    store.upsert(
        ids,
        [unit(i) for i in range(4)],
        [
            {"language": lang, "dirs": dir_prefixes(p), "kind": "chunk"}
            for p, lang in zip(paths, langs, strict=True)
        ],
    )
    assert store.count() == 4
    [(best, score)] = store.query(unit(1), 1)
    assert best == 2**62 + 3 and score > 0.99
    assert {i for i, _ in store.query(unit(0), 10, language="python")} == {11, 99}
    assert {i for i, _ in store.query(unit(0), 10, path_prefix="src")} == {11, 2**62 + 3, 99}
    assert {i for i, _ in store.query(unit(0), 10, path_prefix="src/lib")} == {2**62 + 3}
    assert [i for i, _ in store.query(unit(0), 10, path_prefix="qml/Main.qml")] == [7]
    store.delete([11])
    assert store.count() == 3
    store.close()
    again = make(kind, tmp_path)
    assert again.count() == 3 and 11 not in {i for i, _ in again.query(unit(0), 10)}
    again.close()


@pytest.mark.parametrize("kind", ["edge", "client"])
def test_every_view_of_a_chunk_answers_the_chunk(kind: str, tmp_path: Path) -> None:
    store = make(kind, tmp_path)
    chunk, other = 2**62 + 5, 17
    points = view_ids(chunk, 3)
    assert points[0] == chunk and len(set(points)) == 3 and all(p >= 2**63 for p in points[1:])
    base = {"language": "python", "dirs": ["a.py"], "kind": "chunk"}
    store.upsert(
        [*points, other],
        [unit(i) for i in range(4)],
        [base, {**base, "chunk": chunk}, {**base, "chunk": chunk}, base],
    )
    [(best, _)] = store.query(unit(2), 1)  # the third view is nearest: its chunk answers
    assert best == chunk
    assert [i for i, _ in store.query(unit(3), 1)] == [other]
    store.delete(view_ids(chunk, 4))  # ids of views it never had are no error
    assert store.count() == 1
    store.close()


def test_dir_prefixes() -> None:
    assert dir_prefixes("a/b/c.py") == ["a", "a/b", "a/b/c.py"]
    assert dir_prefixes("top.py") == ["top.py"]
