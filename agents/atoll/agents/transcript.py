"""Run records under ``.atoll/runs/<id>/``: a JSONL transcript plus the run's state.

``transcript.jsonl`` holds every message, tool call and result, in order; ``state.json``
is where the pipeline stands (so a crashed or cancelled run can resume); ``plan.md``,
``result.diff`` and ``summary.json`` are the human-readable outcome.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

RUNS_DIR = Path(".atoll") / "runs"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def runs_dir(root: Path) -> Path:
    return root / RUNS_DIR


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
