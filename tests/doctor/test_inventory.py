"""`atoll models`: configured models listed, files and folders verified, found ones shown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from atoll.config import load_config
from atoll.config.models import demo_embedding, demo_gguf
from atoll.doctor.inventory import (
    configured_models,
    found_on_disk,
    inspect_path,
    served_model_folders,
)
from tests.conftest import REPO


def hf_folder(path: Path, shards: int, present: int) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["Qwen2ForCausalLM"],
                "quantization_config": {"quant_method": "awq", "bits": 4},
            }
        )
    )
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    (path / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {f"w{i}": n for i, n in enumerate(names)}})
    )
    for name in names[:present]:
        (path / name).write_bytes(b"\0" * 16)
    (path / "tokenizer.json").write_text("{}")
    return path


def test_hugging_face_folders_for_vllm(tmp_path: Path) -> None:
    good = inspect_path(hf_folder(tmp_path / "Qwen2.5-Coder-7B-Instruct-AWQ", 2, 2))
    assert good.ok and good.kind == "hf-folder"
    assert good.facts["quantization"] == "awq" and good.facts["architecture"] == "Qwen2ForCausalLM"
    half = inspect_path(hf_folder(tmp_path / "half", 3, 1))
    assert not half.ok and "2 weight shard(s) missing" in half.problems[0]


def test_gguf_and_missing_paths(tmp_path: Path) -> None:
    gguf = demo_gguf()
    assert gguf is not None
    entry = inspect_path(gguf, sha256=True)
    assert entry.ok and entry.facts["quantization"] == "Q4_1" and len(entry.facts["sha256"]) == 64
    assert entry.facts["fim"].startswith("none")
    (tmp_path / "broken.gguf").write_bytes(b"GGUF")
    assert not inspect_path(tmp_path / "broken.gguf").ok
    missing = inspect_path(tmp_path / "nope")
    assert not missing.ok and "does not exist: copy the model there" in missing.problems[0]


def test_configured_models_and_the_gpu_box_folders(tmp_path: Path) -> None:
    config = load_config(None, env={}, user_file=REPO / "deploy" / "atoll.toml").config
    entries = configured_models(config)
    assert [e.use for e in entries][:2] == ["models.gguf", "models.embedding"]
    assert all(e.demo for e in entries[:2])
    remote = [e for e in entries if e.kind == "remote"]
    assert [e.location for e in remote] == [
        "Qwen/Qwen2.5-Coder-32B-Instruct-AWQ @ http://gpu-box.lan:8000/v1",
        "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ @ http://gpu-box.lan:8001/v1",
    ]
    served = served_model_folders(config)
    assert [e.location for e in served] == [
        "/models/Qwen2.5-Coder-32B-Instruct-AWQ",
        "/models/Qwen2.5-Coder-7B-Instruct-AWQ",
    ]


def test_found_on_disk_skips_configured_ones(tmp_path: Path) -> None:
    folder = demo_embedding()
    assert folder is not None
    shutil.copytree(folder, tmp_path / "minilm")
    hf_folder(tmp_path / "coder", 1, 1)
    found = found_on_disk([tmp_path], known={str(tmp_path / "coder")})
    assert [(e.kind, Path(e.location).name) for e in found] == [("embedding", "minilm")]


def test_cli_exit_codes(tmp_path: Path) -> None:
    gguf = demo_gguf()
    cmd = [sys.executable, "-m", "atoll.cli", "models", "--json"]
    ok = subprocess.run([*cmd, str(gguf)], capture_output=True, text=True, env=dict(os.environ))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["models"][0]["facts"]["quantization"] == "Q4_1"
    bad = subprocess.run([*cmd, str(tmp_path / "x.gguf")], capture_output=True, text=True)
    assert bad.returncode == 1 and json.loads(bad.stdout)["ok"] is False
