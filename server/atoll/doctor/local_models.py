"""Checks of the models on this machine: the GGUF for completion, the embedding folder."""

from __future__ import annotations

from atoll.config import ModelNotFoundError, resolve_embedding, resolve_gguf
from atoll.doctor.checks import CheckResult, DoctorContext, Status, check
from atoll.doctor.modelfiles import describe_embedding, describe_gguf, load_gguf_vocab


@check
def gguf_model(ctx: DoctorContext) -> list[CheckResult]:
    """The local GGUF exists, its header reads, llama.cpp loads it, and which FIM applies."""
    config = ctx.loaded.config
    # Not required when completion goes to a server instead.
    remote = bool(config.completion.endpoint.base_url)
    try:
        gguf = resolve_gguf(config)
    except ModelNotFoundError as exc:
        status = Status.WARN if remote else Status.FAIL
        return [CheckResult("gguf model", status, str(exc), required=not remote)]
    report = describe_gguf(gguf.path)
    if not report.ok:
        return [
            CheckResult(
                "gguf model",
                Status.FAIL,
                report.error,
                "copy the file again and compare its SHA-256 (docs/air-gapped.md)",
                required=not remote,
            )
        ]
    problem = load_gguf_vocab(gguf.path)
    if problem:
        return [CheckResult("gguf model", Status.FAIL, problem, required=not remote)]
    note = " (demo-size model; set models.gguf for real use)" if gguf.demo else ""
    size = f"{report.size_bytes / 2**20:.0f} MiB"
    detail = (
        f"{gguf.path}{note}: {report.architecture} {report.quantization}, {size}, "
        f"context {report.context_length or '?'}"
    )
    results = [CheckResult("gguf model", Status.OK, detail)]
    if report.fim_template:
        fim = CheckResult("fim template", Status.OK, report.fim_template)
    else:
        fim = CheckResult(
            "fim template",
            Status.WARN,
            f"{report.name} has no fill-in-the-middle tokens: completion sees only the "
            "text before the cursor",
            "use a coder model with FIM (e.g. Qwen2.5-Coder-1.5B-Instruct Q4_K_M)",
            required=False,
        )
    if config.completion.fim_template != "auto":
        fim = _configured_template(config.completion.fim_template, report.fim_template)
    results.append(fim)
    return results


@check
def embedding_model(ctx: DoctorContext) -> list[CheckResult]:
    """The sentence-transformers folder is complete and its output size is known."""
    config = ctx.loaded.config
    if not (config.indexing.enabled and config.indexing.embeddings):
        return [CheckResult("embedding model", Status.SKIP, "indexing.embeddings is off")]
    try:
        emb = resolve_embedding(config)
    except ModelNotFoundError as exc:
        return [CheckResult("embedding model", Status.WARN, str(exc), required=False)]
    report = describe_embedding(emb.path)
    note = " (demo-size model)" if emb.demo else ""
    if not report.ok:
        return [
            CheckResult(
                "embedding model",
                Status.WARN,
                f"{emb.path}: " + "; ".join(report.problems),
                "copy the whole folder saved by SentenceTransformer.save() (docs/air-gapped.md); "
                "search falls back to lexical meanwhile",
                required=False,
            )
        ]
    return [
        CheckResult(
            "embedding model",
            Status.OK,
            f"{emb.path}{note}: {report.dimension}-d, {report.base_model or 'unknown base'}",
        )
    ]


def _configured_template(name: str, detected: str) -> CheckResult:
    from atoll.completion import template_by_name

    try:
        template_by_name(name)
    except ValueError as exc:
        return CheckResult(
            "fim template",
            Status.FAIL,
            f"completion.fim_template: {exc}",
            'set completion.fim_template = "auto" or one of the known names',
        )
    return CheckResult(
        "fim template",
        Status.OK,
        f"{name} (set by completion.fim_template; the model's own: {detected or 'none'})",
    )
