"""`atoll serve-config` for the embedding server (``indexing.embed_endpoint``)."""

from __future__ import annotations

from pathlib import Path

from atoll.config import load_config
from atoll.deploy import plan_vllm
from atoll.deploy.render import render

TOML = """
[agents.endpoint]
base_url = "http://gpu-box.lan:8000/v1"
model = "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ"

[indexing.embed_endpoint]
base_url = "http://gpu-box.lan:8002/v1"
model = "BAAI/bge-small-en-v1.5"
"""


def test_the_embedding_model_gets_a_pooling_server_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "atoll.toml").write_text(TOML)
    config = load_config(None, env={}, user_file=tmp_path / "atoll.toml").config
    plans = {p.name: p for p in plan_vllm(config)}
    embeddings, architect = plans["embeddings"], plans["architect"]
    assert (embeddings.port, embeddings.model, embeddings.users) == (
        8002, "BAAI/bge-small-en-v1.5", ("embeddings",),
    )  # fmt: skip
    args = embeddings.args()
    assert args[-2:] == ["--runner", "pooling"] and "--max-model-len" not in args
    assert "--enable-auto-tool-choice" not in args and "--enable-prefix-caching" not in args
    # A small share of the GPU; the chat model keeps the rest.
    assert embeddings.gpu_memory_utilization + architect.gpu_memory_utilization <= 0.9
    script = render(config, "vllm")["vllm/embeddings.sh"]
    assert "vllm serve /models/bge-small-en-v1.5" in script
    assert "indexing.embed_endpoint.api_key" in script
