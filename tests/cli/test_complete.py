"""``atoll complete FILE:LINE:COL`` with the real tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atoll.cli", "complete", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "ATOLL_INDEXING_EMBEDDINGS": "0"},
        timeout=120,
        check=False,
    )


def test_complete_prints_suggestion_and_timings(tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_text("def add(a, b):\n    return a\n")
    done = run(f"{source}:2:13", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["text"].strip() and data["source"] == "model"
    assert data["prompt_tokens"] > 0 and data["decode_tokens"] > 0
    assert {"prompt_eval", "decode", "total"} <= set(data["timings_ms"])
    assert data["model"]["backend"] == "llama_cpp" and data["model"]["template"] == "prefix-only"
    human = run(f"{source}:2:13", cwd=tmp_path)
    assert human.returncode == 0 and "decoded" in human.stdout


def test_complete_bad_location_and_bad_model(tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_text("x = 1\n")
    assert run(f"{source}:9:1", cwd=tmp_path).returncode == 2
    assert run("nonsense", cwd=tmp_path).returncode == 2
    bogus = tmp_path / "bad.gguf"
    bogus.write_bytes(b"nope")
    done = run(f"{source}:1:5", "--set", f"models.gguf={bogus}", cwd=tmp_path)
    assert done.returncode == 1 and "not a GGUF" in " ".join(done.stderr.split())
