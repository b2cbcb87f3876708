"""Describe model files on disk without running them: GGUF headers, embedding folders.

``atoll models`` and ``atoll doctor`` both read these reports. The GGUF header is read
by :mod:`atoll.models.gguf` (one parser for the whole code base) and the FIM
template is the one :func:`atoll.completion.detect_template` picks, so the report and
the completion engine always agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.onnx")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model")


@dataclass(frozen=True)
class GgufReport:
    """A GGUF file as atoll sees it; ``error`` is set when it cannot be read."""

    path: Path
    ok: bool
    error: str = ""
    architecture: str = ""
    name: str = ""
    quantization: str = ""
    context_length: int | None = None
    size_bytes: int = 0
    fim_tokens: tuple[str, ...] = ()
    fim_template: str = ""  # "" when the model has no fill-in-the-middle support

    @property
    def has_fim(self) -> bool:
        return bool(self.fim_template or self.fim_tokens)


@dataclass(frozen=True)
class EmbeddingReport:
    """A sentence-transformers folder; ``problems`` lists what is missing."""

    path: Path
    ok: bool
    dimension: int | None = None
    base_model: str = ""
    problems: tuple[str, ...] = field(default=())


def _fim_template_name(info: Any) -> str:
    """The FIM template completion picks for this model, by name ("" for prefix-only)."""
    from atoll.completion import detect_template

    template = detect_template(info)
    if not template.fim:
        return ""
    return template.name + (" (repository-level)" if template.repo_level else "")


def describe_gguf(path: Path) -> GgufReport:
    """Read ``path``'s header: architecture, quantisation, context and FIM support."""
    try:
        from atoll.models.gguf import GgufError, read_gguf_metadata
    except ImportError:  # pragma: no cover - the completion package ships with atoll
        return GgufReport(path, ok=False, error="atoll.models.gguf is not installed")
    try:
        info = read_gguf_metadata(path)
    except GgufError as exc:
        return GgufReport(path, ok=False, error=str(exc))
    return GgufReport(
        path=path,
        ok=True,
        architecture=info.architecture,
        name=info.name,
        quantization=info.quantization,
        context_length=info.context_length,
        size_bytes=info.size_bytes,
        fim_tokens=tuple(info.fim_tokens),
        fim_template=_fim_template_name(info),
    )


def load_gguf_vocab(path: Path) -> str:
    """Open ``path`` with llama.cpp (vocabulary only: fast); "" when it loads, else why not."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return "llama-cpp-python is not installed: pip install 'llama-cpp-python[server]'"
    try:
        with _native_stderr_silenced():
            llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except Exception as exc:  # llama.cpp raises ValueError/RuntimeError with little detail
        return f"llama.cpp could not load it ({exc}); the file may be corrupt or too new"
    llm.close()
    return ""


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """llama.cpp writes warnings straight to fd 2; keep them out of the doctor's report."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def describe_embedding(folder: Path) -> EmbeddingReport:
    """Check a sentence-transformers folder is complete and find its output dimension."""
    if not folder.is_dir():
        return EmbeddingReport(folder, ok=False, problems=(f"{folder} is not a folder",))
    problems: list[str] = []
    modules = _read_json(folder / "modules.json")
    transformer_dir = folder
    dimension: int | None = None
    if not isinstance(modules, list):
        problems.append("modules.json is missing or unreadable (not a sentence-transformers save)")
        modules = []
    for module in modules:
        kind = str(module.get("type", "")) if isinstance(module, dict) else ""
        sub = folder / str(module.get("path", "")) if isinstance(module, dict) else folder
        if kind.endswith("Transformer"):
            transformer_dir = sub
        elif kind.endswith("Pooling"):
            pooling = _read_json(sub / "config.json")
            if isinstance(pooling, dict) and isinstance(
                pooling.get("word_embedding_dimension"), int
            ):
                dimension = pooling["word_embedding_dimension"]
            else:
                problems.append(f"{sub.name}/config.json (pooling) is missing or unreadable")
        elif kind.endswith("Dense"):
            dense = _read_json(sub / "config.json")
            if isinstance(dense, dict) and isinstance(dense.get("out_features"), int):
                dimension = dense["out_features"]
    config = _read_json(transformer_dir / "config.json")
    base = ""
    if not isinstance(config, dict):
        problems.append("config.json of the transformer is missing or unreadable")
    else:
        base = str(config.get("_name_or_path") or config.get("model_type") or "")
        if dimension is None and isinstance(config.get("hidden_size"), int):
            dimension = config["hidden_size"]
    if not any((transformer_dir / name).is_file() for name in WEIGHT_FILES):
        problems.append("no weights (" + " / ".join(WEIGHT_FILES) + ")")
    if not any((transformer_dir / name).is_file() for name in TOKENIZER_FILES):
        problems.append("no tokenizer (" + " / ".join(TOKENIZER_FILES) + ")")
    return EmbeddingReport(
        folder, ok=not problems, dimension=dimension, base_model=base, problems=tuple(problems)
    )


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """The file's SHA-256, streamed (multi-gigabyte models stay out of memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class HfFolderReport:
    """A Hugging Face model folder as vLLM loads it (``--model /models/<name>``)."""

    path: Path
    ok: bool
    architecture: str = ""
    quantization: str = ""  # "awq", "gptq", ... or "" for full precision
    size_bytes: int = 0
    problems: tuple[str, ...] = field(default=())


def describe_hf_folder(folder: Path) -> HfFolderReport:
    """Check a model folder for vLLM: config, weights (all shards), tokenizer."""
    if not folder.is_dir():
        return HfFolderReport(folder, ok=False, problems=(f"{folder} is not a folder",))
    problems: list[str] = []
    config = _read_json(folder / "config.json")
    arch, quant = "", ""
    if not isinstance(config, dict):
        problems.append("config.json is missing or unreadable")
    else:
        archs = config.get("architectures") or [config.get("model_type", "")]
        arch = str(archs[0]) if archs else ""
        qconf = config.get("quantization_config")
        if isinstance(qconf, dict):
            quant = str(qconf.get("quant_method", "quantized"))
    weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    if not weights:
        problems.append("no weights (*.safetensors)")
    index = _read_json(folder / "model.safetensors.index.json")
    if isinstance(index, dict) and isinstance(index.get("weight_map"), dict):
        missing = sorted({str(s) for s in index["weight_map"].values()} - {w.name for w in weights})
        if missing:
            problems.append(f"{len(missing)} weight shard(s) missing, e.g. {missing[0]}")
    if not any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer.model")):
        problems.append("no tokenizer (tokenizer.json / tokenizer.model)")
    size = sum(w.stat().st_size for w in weights)
    return HfFolderReport(folder, not problems, arch, quant, size, tuple(problems))
