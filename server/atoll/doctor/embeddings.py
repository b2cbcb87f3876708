"""The embedding server on the GPU box (``indexing.embed_endpoint``): it answers, with
vectors of the size the index was built with.

One short request embeds a probe text. Its dimension is compared with the embedded
store's manifest, or with the workspace's collection on a shared Qdrant server (whose
name holds the model and the dimension): another size means search would compare
unlike vectors, so the index is rebuilt.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from atoll.config import AtollConfig
from atoll.doctor.checks import CheckResult, DoctorContext, Status, check
from atoll.doctor.vectors import EmbeddingIdentity, read_vector_manifest

NAME = "embedding server"


def remote_identity(config: AtollConfig, timeout_s: float) -> EmbeddingIdentity | CheckResult:
    """The remote model's name and dimension, or the failed check that says why not."""
    from atoll.indexing.embed import EmbeddingError
    from atoll.indexing.embed_remote import RemoteEmbedder

    endpoint = replace(config.indexing.embed_endpoint, timeout_s=timeout_s)
    probe = replace(config, indexing=replace(config.indexing, embed_endpoint=endpoint))
    embedder = RemoteEmbedder(probe, retries=0)
    try:
        return EmbeddingIdentity(embedder.name, embedder.dim)
    except EmbeddingError as exc:
        return CheckResult(
            NAME,
            Status.FAIL,
            str(exc),
            "start it (`atoll serve-config embeddings` prints the command) or fix "
            "indexing.embed_endpoint.base_url / .model",
        )
    finally:
        embedder.close()


def _against_manifest(index_dir: Path, identity: EmbeddingIdentity) -> CheckResult | None:
    manifest = read_vector_manifest(index_dir)
    if not manifest or manifest.get("model") != identity.name:
        return None  # nothing built with this server yet: the next run builds it
    built = int(manifest.get("dim", 0) or 0)
    if built == identity.dimension:
        return CheckResult("vector index", Status.OK, f"{built}-d, as the embedding server makes")
    return CheckResult(
        "vector index",
        Status.FAIL,
        f"the index's vectors are {built}-d but {identity.name} now makes {identity.dimension}-d "
        "vectors (another model behind the same name?)",
        "run `atoll index`: it sets the old vectors aside and embeds again",
    )


@check
def embedding_server(ctx: DoctorContext) -> list[CheckResult]:
    config = ctx.loaded.config
    endpoint = config.indexing.embed_endpoint
    if not endpoint.base_url:
        return [CheckResult(NAME, Status.SKIP, "none configured: embeddings run on this machine")]
    if not (config.indexing.enabled and config.indexing.embeddings):
        return [CheckResult(NAME, Status.SKIP, "indexing.embeddings is off")]
    found = remote_identity(config, ctx.timeout_s)
    if isinstance(found, CheckResult):
        return [found]
    results = [
        CheckResult(NAME, Status.OK, f"{endpoint.base_url}: {found.name}, {found.dimension}-d")
    ]
    if not config.indexing.qdrant_url:
        index_dir = (ctx.workspace / config.indexing.index_dir).resolve()
        verdict = _against_manifest(index_dir, found)
        results.extend([verdict] if verdict else [])
    return results
