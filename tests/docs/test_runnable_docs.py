"""The shell commands the docs promise work, run as a new user would type them.

Every fenced block marked ```` ```bash runnable ```` in README.md, docs/*.md and
client-vscode/README.md runs with ``bash -euo pipefail`` in a fresh folder laid out like
the repository (``samples/workspace`` and ``deploy`` are there), with this checkout's ``atoll`` first on
PATH and an empty HOME. A block that fails makes its claim false, and this test says which.
Blocks that need more than this machine offers (a GPU box, a running editor) stay plain
```` ```bash ````.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "client-vscode" / "README.md"]  # fmt: skip
BLOCK = re.compile(r"^```bash runnable[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
pytestmark = pytest.mark.slow


def runnable_blocks() -> list[tuple[str, int, str]]:
    """(file, line of the block, script) for every runnable block."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((str(doc.relative_to(REPO)), line, match.group(1)))
    return found


BLOCKS = runnable_blocks()


def test_the_docs_mark_commands_runnable() -> None:
    files = {name for name, _, _ in BLOCKS}
    assert {"README.md", "docs/editors.md", "docs/mcp.md"} <= files, files


@pytest.mark.parametrize(
    ("doc", "line", "script"), BLOCKS, ids=[f"{name}:{line}" for name, line, _ in BLOCKS]
)
def test_runnable_block(doc: str, line: int, script: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for folder in ("samples/workspace", "deploy"):  # what the docs' examples name
        shutil.copytree(REPO / folder, tmp_path / folder)
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "ATOLL_USER_CONFIG": str(home / ".config" / "atoll" / "config.toml"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TERM": "dumb",
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (
        f"{doc}:{line}: a documented command failed (exit {done.returncode}):\n{script}\n"
        f"--- stdout ---\n{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}"
    )
