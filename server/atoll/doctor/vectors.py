"""Checks of the vector store: Qdrant reachable (embedded or server) and its collections
built with the configured embedding model.

On a server, a collection that records its model in Qdrant's collection metadata
(``embedding_model``) is compared by name, every one by vector size. Collections are
atoll's when their name starts with ``atoll`` (the index uses one per repository and
embedding model, ``atoll_<repo>_<model>_<dim>``) or their metadata names an embedding
model; when the workspace's own collection can be named, only it is judged. The embedded store is compared through the
index's own ``vectors/manifest.json``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atoll.config import AtollConfig, ModelNotFoundError, env_var_for, resolve_embedding
from atoll.doctor.checks import CheckResult, DoctorContext, Status, check
from atoll.doctor.modelfiles import describe_embedding
from atoll.indexing.vectors import collection_name, repository_name

COLLECTION_PREFIX = "atoll"
REBUILD_FIX = (
    "drop the collection and re-index (atoll re-indexes on start), or set models.embedding "
    "back to the model it was built with"
)


@dataclass(frozen=True)
class EmbeddingIdentity:
    name: str  # folder name, e.g. "all-MiniLM-L6-v2" or "model"
    dimension: int | None


def configured_embedding(config: AtollConfig, timeout_s: float = 3.0) -> EmbeddingIdentity | None:
    if config.indexing.embed_endpoint.base_url:  # the GPU box embeds: ask it
        from atoll.doctor.embeddings import remote_identity

        found = remote_identity(config, timeout_s)
        return found if isinstance(found, EmbeddingIdentity) else None
    try:
        resolved = resolve_embedding(config)
    except ModelNotFoundError:
        return None
    report = describe_embedding(resolved.path)
    name = "all-MiniLM-L6-v2" if resolved.demo else resolved.path.name
    return EmbeddingIdentity(name, report.dimension)


def qdrant_client_for(url: str, api_key: str, timeout_s: float) -> Any:
    """A qdrant-client for the Qdrant server at ``indexing.qdrant_url``."""
    from qdrant_client import QdrantClient

    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"indexing.qdrant_url = {url!r} is not a Qdrant server URL like http://gpu-box:6333"
        )
    with warnings.catch_warnings():
        # qdrant-client warns about a key over plain HTTP; the transport check says it.
        warnings.simplefilter("ignore")
        return QdrantClient(
            url=url,
            api_key=api_key or None,
            timeout=max(1, int(timeout_s)),
            check_compatibility=False,
        )


def read_vector_manifest(index_dir: Path) -> dict[str, Any]:
    """What the index recorded about its vectors: ``model`` (path), ``dim``, ``store``."""
    try:
        data = json.loads((index_dir / "vectors" / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _manifest_result(index_dir: Path, config: AtollConfig) -> CheckResult | None:
    """The embedded vectors were built with the configured model (or will be rebuilt)."""
    manifest = read_vector_manifest(index_dir)
    if not manifest:
        return None
    if config.indexing.embed_endpoint.base_url:
        return None  # the embedding server check compares those vectors
    try:
        configured = str(resolve_embedding(config).path)
    except ModelNotFoundError:
        return None
    built = str(manifest.get("model", ""))
    if built == configured:
        return CheckResult(
            "vector index", Status.OK, f"built with {Path(built).name} ({manifest.get('dim')}-d)"
        )
    return CheckResult(
        "vector index",
        Status.WARN,
        f"built with {built or 'an unknown model'} ({manifest.get('dim', '?')}-d); the "
        f"configured model is {configured}: atoll re-embeds the whole workspace on its next "
        "start (minutes for a large repository)",
        "expected after changing models.embedding; otherwise set it back",
        required=False,
    )


def _vector_sizes(info: Any) -> dict[str, int]:
    vectors = info.config.params.vectors
    if vectors is None:
        return {}
    if hasattr(vectors, "size"):
        return {"": int(vectors.size)}
    return {name: int(params.size) for name, params in dict(vectors).items()}


def _collection_result(name: str, info: Any, want: EmbeddingIdentity | None) -> CheckResult:
    label = f"qdrant collection {name}"
    metadata = dict(getattr(info.config, "metadata", None) or {})
    built_with = str(metadata.get("embedding_model", ""))
    sizes = _vector_sizes(info)
    size_text = ", ".join(f"{n or 'default'} {s}-d" for n, s in sizes.items()) or "no vectors"
    points = getattr(info, "points_count", None)
    if want is None:
        return CheckResult(label, Status.SKIP, f"{size_text}; no embedding model to compare")
    if built_with and Path(built_with).name != want.name:
        return CheckResult(
            label,
            Status.FAIL,
            f"built with embedding model {built_with!r} ({size_text}); atoll is configured "
            f"with {want.name!r} ({want.dimension or '?'}-d): search would compare unlike "
            "vectors",
            REBUILD_FIX,
        )
    wrong = [s for s in sizes.values() if want.dimension and s != want.dimension]
    if wrong:
        return CheckResult(
            label,
            Status.FAIL,
            f"vectors are {wrong[0]}-d but {want.name} makes {want.dimension}-d vectors: the "
            "collection was built with another embedding model",
            REBUILD_FIX,
        )
    return CheckResult(label, Status.OK, f"{size_text}, {points or 0} points, model {want.name}")


def _is_ours(name: str, info: Any) -> bool:
    metadata = getattr(info.config, "metadata", None) or {}
    return name.startswith(COLLECTION_PREFIX) or "embedding_model" in metadata


def check_qdrant_client(
    client: Any, where: str, want: EmbeddingIdentity | None, mine: str = ""
) -> list[CheckResult]:
    """List the collections through ``client`` and compare atoll's with ``want``.

    ``mine`` names this workspace's collection on a shared server (one per repository
    and embedding model): only it is judged; other repositories' are just counted.
    """
    names = [c.name for c in client.get_collections().collections]
    results = [CheckResult("qdrant", Status.OK, f"{where}: {len(names)} collection(s)")]
    if mine:
        if mine in names:
            results.append(_collection_result(mine, client.get_collection(mine), want))
        else:
            results.append(
                CheckResult(
                    f"qdrant collection {mine}",
                    Status.OK,
                    "not created yet: the first index run on any clone creates it",
                )
            )
        return results
    for name in sorted(names):
        info = client.get_collection(name)
        if _is_ours(name, info):
            results.append(_collection_result(name, info, want))
    return results


def _server_failure(url: str, exc: Exception) -> CheckResult:
    text = str(exc)
    key_var = env_var_for("indexing.qdrant_api_key")
    if "401" in text or "403" in text or "nauthorized" in text or "orbidden" in text:
        return CheckResult(
            "qdrant",
            Status.FAIL,
            f"the Qdrant server at {url} rejected the API key ({text.splitlines()[0][:120]})",
            f"set {key_var} (or indexing.qdrant_api_key in the user config) to the server's key",
        )
    return CheckResult(
        "qdrant",
        Status.FAIL,
        f"cannot reach the Qdrant server at {url}: {type(exc).__name__}: {text[:160]}",
        "start it (`atoll serve-config qdrant` prints its config) or fix indexing.qdrant_url",
    )


@check
def qdrant(ctx: DoctorContext) -> list[CheckResult]:
    config = ctx.loaded.config
    if not (config.indexing.enabled and config.indexing.embeddings):
        return [CheckResult("qdrant", Status.SKIP, "indexing.embeddings is off: no vectors")]
    url = config.indexing.qdrant_url
    if not url:
        store = (ctx.workspace / config.indexing.index_dir).resolve()
        where = f"embedded Qdrant Edge under {store}"
        if not store.exists():
            return [CheckResult("qdrant", Status.OK, f"{where} (not built yet: indexed on start)")]
        manifest = _manifest_result(store, config)
        return [CheckResult("qdrant", Status.OK, where), *([manifest] if manifest else [])]
    # Only a Qdrant server needs it (its collection's name holds the model and the
    # dimension); with an embedding server that is one more request to it.
    want = configured_embedding(config, ctx.timeout_s)
    try:
        client = qdrant_client_for(url, config.indexing.qdrant_api_key, ctx.timeout_s)
    except ValueError as exc:
        return [
            CheckResult(
                "qdrant", Status.FAIL, str(exc), "set indexing.qdrant_url to http(s)://HOST:6333"
            )
        ]
    try:
        mine = ""
        if want is not None and want.dimension:
            repo = repository_name(ctx.workspace, config.indexing.repository)
            mine = collection_name(repo, want.name, want.dimension)
        results = check_qdrant_client(client, f"Qdrant at {url}", want, mine)
    except Exception as exc:  # qdrant-client raises transport errors of several kinds
        return [_server_failure(url, exc)]
    finally:
        client.close()
    if url.startswith("http://") and config.indexing.qdrant_api_key:
        host = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        if host not in ("localhost", "127.0.0.1", "[::1]"):
            results.append(
                CheckResult(
                    "qdrant transport",
                    Status.WARN,
                    f"the API key goes to {host} over plain HTTP",
                    "use https:// behind the reverse proxy in deploy/nginx/ (docs/deployment.md)",
                    required=False,
                )
            )
    return results
