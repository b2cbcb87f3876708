"""The Qdrant checks through qdrant-client's local mode: the same client path a shared
Qdrant server takes, run here without a server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qdrant_client import QdrantClient
from qdrant_client.http import models

from atoll.config import load_config
from atoll.doctor import DoctorContext, Status, run_checks, vectors
from atoll.doctor.vectors import qdrant


def make_store(path: Path, collections: dict[str, tuple[int, str]]) -> None:
    client = QdrantClient(path=str(path))
    for name, (size, model) in collections.items():
        client.create_collection(
            name,
            vectors_config=models.VectorParams(size=size, distance=models.Distance.COSINE),
            metadata={"embedding_model": model} if model else None,
        )
    client.close()


def doctor(workspace: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[type-arg]
    """Run the server check with local mode standing in for the server's transport."""
    url = "http://qdrant.test:6333"
    opened: list[str] = []

    def local_client(got_url: str, api_key: str, timeout_s: float) -> QdrantClient:
        opened.append(got_url)
        return QdrantClient(path=str(store))

    monkeypatch.setenv("ATOLL_INDEXING_QDRANT_URL", url)
    monkeypatch.setattr(vectors, "qdrant_client_for", local_client)
    results = run_checks(DoctorContext(workspace, load_config(workspace)), [vectors.qdrant])
    assert opened == [url]
    return results


def own_collection(workspace: Path) -> str:
    """The collection this workspace's index uses on a shared server."""
    from atoll.indexing.vectors import collection_name, repository_name

    want = vectors.configured_embedding(load_config(workspace).config)
    assert want is not None and want.dimension
    return collection_name(repository_name(workspace), want.name, want.dimension)


def test_the_workspace_collection_built_with_the_configured_model_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "qdrant"
    mine = own_collection(tmp_path)
    # A shared server holds one collection per repository and model; only ours is judged.
    make_store(
        store,
        {mine: (384, "all-MiniLM-L6-v2"), "atoll_other-repo_nomic-embed-code_768": (768, "x")},
    )
    results = doctor(tmp_path, store, monkeypatch)
    assert [r.status for r in results] == [Status.OK] * 2, results
    assert "2 collection(s)" in results[0].detail
    assert results[1].name == f"qdrant collection {mine}"


def test_a_workspace_collection_from_another_embedding_model_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "qdrant"
    mine = own_collection(tmp_path)
    make_store(store, {mine: (768, "nomic-embed-code"), "someone-elses": (1024, "")})
    by_name = {r.name: r for r in doctor(tmp_path, store, monkeypatch)}
    own = by_name[f"qdrant collection {mine}"]
    assert own.status is Status.FAIL
    assert "built with embedding model 'nomic-embed-code'" in own.detail
    assert "'all-MiniLM-L6-v2' (384-d)" in own.detail
    assert "re-index" in own.fix and "models.embedding" in own.fix
    assert "qdrant collection someone-elses" not in by_name


def test_wrong_vector_size_without_metadata_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "qdrant"
    mine = own_collection(tmp_path)
    make_store(store, {mine: (768, "")})
    by_name = {r.name: r for r in doctor(tmp_path, store, monkeypatch)}
    own = by_name[f"qdrant collection {mine}"]
    assert own.status is Status.FAIL
    assert "vectors are 768-d but all-MiniLM-L6-v2 makes 384-d vectors" in own.detail


def test_a_collection_not_created_yet_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "qdrant"
    make_store(store, {})
    results = doctor(tmp_path, store, monkeypatch)
    assert [r.status for r in results] == [Status.OK] * 2
    assert "not created yet" in results[1].detail


def test_an_unreachable_server_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOLL_INDEXING_QDRANT_URL", "http://127.0.0.1:9")
    ctx = DoctorContext(tmp_path, load_config(tmp_path), timeout_s=1)
    [result] = run_checks(ctx, [qdrant])
    assert result.status is Status.FAIL and result.required
    assert "cannot reach the Qdrant server at http://127.0.0.1:9" in result.detail
    assert "atoll serve-config qdrant" in result.fix


def test_embedded_mode_needs_no_server(tmp_path: Path) -> None:
    [result] = run_checks(DoctorContext(tmp_path, load_config(tmp_path)), [qdrant])
    assert result.status is Status.OK and "embedded Qdrant Edge" in result.detail


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")
def test_the_index_own_server_collection_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collection atoll.indexing creates on a server, checked by the doctor."""
    from atoll.indexing.vectors import ClientVectorStore

    store = tmp_path / "qdrant"
    mine = own_collection(tmp_path)
    ClientVectorStore(384, path=store, collection=mine, model="all-MiniLM-L6-v2").close()
    by_name = {r.name: r for r in doctor(tmp_path, store, monkeypatch)}
    assert by_name[f"qdrant collection {mine}"].status is Status.OK


def test_a_path_is_not_a_server_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATOLL_INDEXING_QDRANT_URL", str(tmp_path))
    [result] = run_checks(DoctorContext(tmp_path, load_config(tmp_path)), [qdrant])
    assert result.status is Status.FAIL and "is not a Qdrant server URL" in result.detail


def test_embedded_vectors_from_another_model_are_named(tmp_path: Path) -> None:
    (tmp_path / ".atoll" / "vectors").mkdir(parents=True)
    (tmp_path / ".atoll" / "vectors" / "manifest.json").write_text(
        json.dumps({"model": "/models/nomic-embed-code", "dim": 768, "store": "edge"})
    )
    _, manifest = run_checks(DoctorContext(tmp_path, load_config(tmp_path)), [qdrant])
    assert manifest.status is Status.WARN and not manifest.required
    assert "built with /models/nomic-embed-code (768-d)" in manifest.detail
    assert "re-embeds the whole workspace" in manifest.detail
