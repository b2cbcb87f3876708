"""Model files on disk: GGUF headers with and without FIM, embedding folders."""

from __future__ import annotations

import shutil
from pathlib import Path

from atoll.config.models import demo_embedding, demo_gguf
from atoll.doctor.modelfiles import describe_embedding, describe_gguf, load_gguf_vocab, sha256_file
from atoll.models.gguf import write_gguf

QWEN_TOKENS = [
    "a",
    "b",
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|file_sep|>",
]


def fake_gguf(path: Path, tokens: list[str]) -> Path:
    write_gguf(
        path,
        {
            "general.architecture": "qwen2",
            "general.name": "Qwen2.5 Coder 1.5B Instruct",
            "general.file_type": 15,
            "qwen2.context_length": 32768,
            "tokenizer.ggml.tokens": tokens,
            "tokenizer.ggml.token_type": [1, 1] + [3] * (len(tokens) - 2),
        },
    )
    return path


def test_a_coder_gguf_reports_its_quantisation_and_fim_template(tmp_path: Path) -> None:
    report = describe_gguf(fake_gguf(tmp_path / "q.gguf", QWEN_TOKENS))
    assert report.ok and report.quantization == "Q4_K_M" and report.context_length == 32768
    assert report.fim_template == "qwen (repository-level)" and report.has_fim


def test_a_chat_only_gguf_has_no_fim(tmp_path: Path) -> None:
    report = describe_gguf(fake_gguf(tmp_path / "c.gguf", ["a", "b", "<|im_start|>", "<|im_end|>"]))
    assert report.ok and report.fim_template == "" and not report.has_fim


def test_a_truncated_gguf_is_named(tmp_path: Path) -> None:
    data = fake_gguf(tmp_path / "t.gguf", QWEN_TOKENS).read_bytes()
    (tmp_path / "t.gguf").write_bytes(data[: len(data) // 2])
    report = describe_gguf(tmp_path / "t.gguf")
    assert not report.ok and "truncated" in report.error
    (tmp_path / "x.gguf").write_bytes(b"<html>proxy error</html>")
    assert "is not a GGUF file" in describe_gguf(tmp_path / "x.gguf").error


def test_the_demo_gguf_loads_in_llama_cpp() -> None:
    gguf = demo_gguf()
    assert gguf is not None
    assert load_gguf_vocab(gguf) == ""
    assert describe_gguf(gguf).quantization == "Q4_1"


def test_a_header_only_gguf_does_not_load(tmp_path: Path) -> None:
    assert "llama.cpp could not load it" in load_gguf_vocab(
        fake_gguf(tmp_path / "q.gguf", QWEN_TOKENS)
    )


def test_embedding_folder_complete_and_incomplete(tmp_path: Path) -> None:
    folder = demo_embedding()
    assert folder is not None
    report = describe_embedding(folder)
    assert report.ok and report.dimension == 384, report.problems
    broken = tmp_path / "emb"
    shutil.copytree(folder, broken, ignore=shutil.ignore_patterns("*.safetensors"))
    report = describe_embedding(broken)
    assert not report.ok and any("no weights" in p for p in report.problems)
    assert not describe_embedding(tmp_path / "missing").ok


def test_sha256_streams(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f", chunk=1).startswith("ba7816bf")
