"""Two clones of one repository share a Qdrant collection (issue: team indexes once).

qdrant-client's local mode stands in for the Qdrant server: same client API.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from atoll.config import load_config
from atoll.indexing import WorkspaceIndex, vectorside
from atoll.indexing.vectors import ClientVectorStore, collection_name, repository_name

ORIGIN = '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@git.lan:team/inventory.git\n'


def clone(sample: Path, target: Path) -> Path:
    shutil.copytree(sample, target)
    (target / ".git").mkdir()
    (target / ".git" / "config").write_text(ORIGIN)
    return target


def test_repository_and_collection_names(tmp_path: Path) -> None:
    a = clone(Path(__file__).parents[2] / "samples" / "workspace", tmp_path / "a")
    name = repository_name(a)
    assert name.startswith("inventory-")
    assert repository_name(tmp_path / "elsewhere") == "elsewhere"
    assert repository_name(a, "given") == "given"
    assert collection_name(name, "/models/all-MiniLM-L6-v2", 384).startswith("atoll_inventory-")
    assert collection_name(name, "m", 384) != collection_name(name, "m", 768)


def test_second_clone_reuses_vectors_and_deletes_touch_nobody(
    sample_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_path = tmp_path / "qdrant-server"
    opened: list[ClientVectorStore] = []

    def as_server(dim: int, **kwargs: Any) -> ClientVectorStore:
        kwargs.pop("url")
        kwargs.pop("api_key")
        store = ClientVectorStore(dim, path=server_path, shared=True, **kwargs)
        opened.append(store)
        return store

    monkeypatch.setattr(vectorside, "ClientVectorStore", as_server)
    env = {"ATOLL_INDEXING_QDRANT_URL": "http://qdrant.lan:6333"}
    first = clone(sample_workspace, tmp_path / "laptop-a")
    second = clone(sample_workspace, tmp_path / "laptop-b")

    index = WorkspaceIndex.open(first, load_config(first, env=env).config)
    try:
        stats = index.index_all()
        assert stats.embedded > 0
        stored = opened[-1].count()
        # Laptop A deletes a file: the shared points stay (laptop B still has it).
        (first / "inventory" / "report.py").unlink()
        index.index_all()
        assert opened[-1].count() == stored
        assert not [
            h for h in index.search("format cents as dollars", k=5) if h.path.name == "report.py"
        ]
    finally:
        index.close()

    other = WorkspaceIndex.open(second, load_config(second, env=env).config)
    try:
        stats = other.index_all()
        assert stats.embedded == 0, "laptop B embedded chunks laptop A had already embedded"
        assert opened[-1].collection == opened[0].collection
        hits = other.hybrid().search("format cents as dollars", k=3, mode="vector")
        assert any(h.path.name == "report.py" for h in hits)
    finally:
        other.close()
