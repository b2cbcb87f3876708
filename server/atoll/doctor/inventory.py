"""What ``atoll models`` lists: the models atoll is configured to use, where they are,
and whether each file or folder is complete and usable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atoll.config import AtollConfig, ModelNotFoundError, resolve_embedding, resolve_gguf
from atoll.doctor.modelfiles import (
    describe_embedding,
    describe_gguf,
    describe_hf_folder,
    load_gguf_vocab,
    sha256_file,
)


@dataclass(frozen=True)
class ModelEntry:
    """One model: which setting wants it (``use``), where it is, and what is wrong."""

    use: str  # "models.gguf", "models.embedding", "agents.architect", "file", ...
    kind: str  # "gguf" | "embedding" | "hf-folder" | "remote" | "unknown"
    location: str  # a path, or "MODEL @ URL" for a remote one
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    demo: bool = False


def _file_size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.0f} MiB"


def inspect_path(path: Path, use: str = "file", *, sha256: bool = False) -> ModelEntry:
    """Verify one file or folder: a GGUF, a sentence-transformers or a Hugging Face folder."""
    path = path.expanduser()
    facts: dict[str, Any] = {}
    if path.is_file():
        report = describe_gguf(path)
        if not report.ok:
            return ModelEntry(use, "gguf", str(path), False, problems=(report.error,))
        facts = {
            "architecture": report.architecture,
            "name": report.name,
            "quantization": report.quantization,
            "context": report.context_length,
            "fim": report.fim_template or "none (prefix-only completion)",
            "size": _file_size(path),
        }
        if sha256:
            facts["sha256"] = sha256_file(path)
        problem = load_gguf_vocab(path)
        return ModelEntry(use, "gguf", str(path), not problem, facts, (problem,) if problem else ())
    if (path / "modules.json").is_file():
        emb = describe_embedding(path)
        facts = {"dimension": emb.dimension, "base": emb.base_model}
        return ModelEntry(use, "embedding", str(path), emb.ok, facts, emb.problems)
    if (path / "config.json").is_file():
        hf = describe_hf_folder(path)
        facts = {
            "architecture": hf.architecture,
            "quantization": hf.quantization or "none",
            "size": f"{hf.size_bytes / 2**30:.1f} GiB",
        }
        return ModelEntry(use, "hf-folder", str(path), hf.ok, facts, hf.problems)
    why = (
        "does not exist: copy the model there (docs/air-gapped.md)"
        if not path.exists()
        else "is not a GGUF file or a model folder"
    )
    return ModelEntry(use, "unknown", str(path), False, problems=(f"{path} {why}",))


def configured_models(config: AtollConfig, *, sha256: bool = False) -> list[ModelEntry]:
    """Every model the configuration names, local ones verified on disk."""
    entries: list[ModelEntry] = []
    try:
        gguf = resolve_gguf(config)
        entry = inspect_path(gguf.path, "models.gguf", sha256=sha256)
        entries.append(_with_demo(entry, gguf.demo))
    except ModelNotFoundError as exc:
        remote = bool(config.completion.endpoint.base_url)
        entries.append(
            ModelEntry("models.gguf", "gguf", config.models.gguf, remote, problems=(str(exc),))
        )
    try:
        emb = resolve_embedding(config)
        entries.append(_with_demo(inspect_path(emb.path, "models.embedding"), emb.demo))
    except ModelNotFoundError as exc:
        entries.append(
            ModelEntry(
                "models.embedding",
                "embedding",
                config.models.embedding,
                False,
                problems=(str(exc),),
            )
        )
    entries.extend(_remote_models(config))
    return entries


def _with_demo(entry: ModelEntry, demo: bool) -> ModelEntry:
    return ModelEntry(
        entry.use, entry.kind, entry.location, entry.ok, entry.facts, entry.problems, demo
    )


def _remote_models(config: AtollConfig) -> list[ModelEntry]:
    from atoll.doctor.endpoints import configured_endpoints

    out = []
    for ep in configured_endpoints(config):
        out.append(
            ModelEntry(
                ", ".join(ep.users),
                "remote",
                f"{ep.model or '(server default)'} @ {ep.base_url}",
                True,
                {"checked by": "atoll doctor"},
            )
        )
    return out


def served_model_folders(config: AtollConfig) -> list[ModelEntry]:
    """On the GPU box: the folders vLLM will load, as ``atoll serve-config`` plans them."""
    from atoll.deploy.plan import DeployError, plan_vllm

    try:
        plans = plan_vllm(config)
    except DeployError:
        return []
    return [inspect_path(Path(p.model_path), f"vllm {p.name} ({p.model})") for p in plans]


def found_on_disk(folders: list[Path], known: set[str]) -> list[ModelEntry]:
    """Models lying in ``folders`` (two levels deep) that no setting names yet."""
    seen: set[Path] = set()
    out: list[ModelEntry] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        candidates = sorted(folder.glob("*.gguf")) + sorted(folder.glob("*/*.gguf"))
        candidates += sorted(p.parent for p in folder.glob("*/modules.json"))
        candidates += sorted(
            p.parent
            for p in folder.glob("*/config.json")
            if not (p.parent / "modules.json").exists()
        )
        for path in candidates:
            resolved = path.resolve()
            if resolved in seen or str(path) in known or str(resolved) in known:
                continue
            seen.add(resolved)
            out.append(inspect_path(path, "found (not configured)"))
    return out


def search_folders(config: AtollConfig) -> list[Path]:
    """Where models usually lie: beside the configured ones, and the GPU box's model_dir."""
    folders = [Path(config.deploy.model_dir)]
    for setting in (config.models.gguf, config.models.embedding):
        if setting:
            folders.append(Path(setting).expanduser().parent)
    return list(dict.fromkeys(folders))
