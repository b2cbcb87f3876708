"""What the hardening suite shares: a workspace with things worth stealing next to it, a
hostile scripted model, tree hashes, and ``atoll run`` as a real subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agents.scripts import action

SECRET = "CANARY-SECRET-7f3a"
SSH_KEY = "CANARY-SSH-KEY-91bc"
API_KEY = "sk-CANARY-API-KEY-55d0"
GIT_MARKER = "CANARY-GIT-HISTORY-2e8d"


def tree_hash(top: Path) -> dict[str, tuple[str, ...]]:
    """Every entry under ``top``: kind, mode and content hash (or link target)."""
    out: dict[str, tuple[str, ...]] = {}
    for folder, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = Path(folder) / name
            st = path.lstat()
            rel = path.relative_to(top).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", oct(st.st_mode))
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", oct(st.st_mode), digest)
    return out


@dataclass
class Island:
    """A user's machine in miniature: the workspace, a canary folder, a home with keys."""

    root: Path
    ws: Path
    canary: Path
    home: Path
    cache: Path

    def snapshot(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        return tree_hash(self.ws), tree_hash(self.canary)

    def env(self, script: Path | None, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ATOLL_") or k == "ATOLL_USER_CONFIG"
        }
        env.update(
            HOME=str(self.home),
            XDG_CACHE_HOME=str(self.cache),
            PYTHONUNBUFFERED="1",
            ATOLL_AGENTS_ENDPOINT_API_KEY=API_KEY,
            ATOLL_INDEXING_EMBEDDINGS="0",
        )
        if script is not None:
            env["ATOLL_AGENTS_ENDPOINT_BASE_URL"] = f"scripted:{script}"
        env.update(extra)
        return env

    def script(self, answers: list[Any], name: str = "script", delay_s: float = 0.0) -> Path:
        path = self.root / f"{name}.json"
        path.write_text(json.dumps({"answers": answers, "delay_s": delay_s}))
        return path

    def task(self, text: str = "Do as the script says.") -> Path:
        path = self.root / "task.md"
        path.write_text(text + "\n")
        return path

    def transcripts(self) -> str:
        """Every transcript and result the runs wrote: what the model was shown."""
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(self.cache.rglob("transcript.jsonl"))
        )

    def staged(self) -> list[Path]:
        return sorted(p for p in self.cache.rglob("work") if p.is_dir())


def make_island(tmp_path: Path) -> Island:
    root = tmp_path
    ws, canary, home, cache = (root / n for n in ("ws", "canary", "home", "cache"))
    (ws / "pkg").mkdir(parents=True)
    (ws / "app.py").write_text("print('the user''s app')\n")
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "core.py").write_text("def total(xs):\n    return sum(xs)\n")
    canary.mkdir()
    (canary / "secret.txt").write_text(SECRET + "\n")
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SSH_KEY + "\n")
    cache.mkdir()
    # The workspace is a git repository with history the crew must never see or touch.
    git = ["git", "-c", "user.name=u", "-c", "user.email=u@x", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=ws, check=True)
    subprocess.run([*git, "add", "-A"], cwd=ws, check=True)
    subprocess.run([*git, "commit", "-qm", GIT_MARKER], cwd=ws, check=True)
    return Island(root, ws, canary, home, cache)


def atoll_run(
    island: Island,
    answers: list[Any],
    *args: str,
    timeout_s: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``atoll run`` on the island's workspace with a hostile coder (the only role)."""
    script = island.script(answers)
    command = [sys.executable, "-m", "atoll.cli", "run", str(island.task()), "-w", str(island.ws)]
    command += ["--no-index", "--set", "agents.roles=coder", "--set", "agents.command_timeout_s=5"]
    command += list(args)
    return subprocess.run(
        command,
        env={**island.env(script), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=island.root,
    )


def finish() -> str:
    return action("finish", summary="done as scripted")


def run_command(command: str) -> str:
    return action("run_command", command=command)
