"""Run records: a JSONL transcript plus the run's state, outside the workspace.

A run lives in ``$XDG_CACHE_HOME/atoll/runs/<workspace>-<hash>/<run id>/`` (``~/.cache``
without XDG_CACHE_HOME): never inside the workspace, so no path, no ``..`` and no ``git``
in the staged copy can reach the user's files or repository. ``transcript.jsonl`` holds
every message, tool call and result, in order; ``state.json`` is where the pipeline
stands (so a crashed or cancelled run can resume); ``plan.md``, ``result.diff`` and
``summary.json`` are the human-readable outcome.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def runs_root(env: Mapping[str, str] | None = None) -> Path:
    """Where every workspace's runs live: the user's cache directory."""
    env = os.environ if env is None else env
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "atoll" / "runs"


def runs_dir(root: Path) -> Path:
    """This workspace's runs: named after the folder and a hash of its real path."""
    real = root.resolve()
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", real.name)[:40] or "root"
    return runs_root() / f"{name}-{digest}"


def find_run(root: Path, run_id: str, *, any_workspace: bool = False) -> Path | None:
    """The folder of run ``run_id`` of this workspace (or, to read it, of any workspace)."""
    if not RUN_ID.fullmatch(run_id):
        return None
    mine = runs_dir(root) / run_id
    if mine.is_dir() or not any_workspace:
        return mine if mine.is_dir() else None
    top = runs_root()
    for candidate in sorted(top.glob(f"*/{run_id}")) if top.is_dir() else ():
        if candidate.is_dir():
            return candidate
    return None


class Transcript:
    """Append-only JSONL log of one run; safe to use from several threads."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / "transcript.jsonl"
        self._lock = threading.Lock()
        run_dir.mkdir(parents=True, exist_ok=True)

    def record(self, kind: str, **data: Any) -> None:
        line = json.dumps({"t": round(time.time(), 3), "kind": kind, **data}, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def events(self) -> list[dict[str, Any]]:
        """Every record; a torn last line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def write_json(self, name: str, data: Any) -> None:
        target = self.run_dir / name
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        tmp.replace(target)  # atomic: a crash never leaves half a state file

    def read_json(self, name: str) -> Any:
        return json.loads((self.run_dir / name).read_text(encoding="utf-8"))

    def write_text(self, name: str, text: str) -> None:
        (self.run_dir / name).write_text(text, encoding="utf-8")
