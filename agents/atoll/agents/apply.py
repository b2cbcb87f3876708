"""Write a crew's diff into the user's workspace — only when the user asks (``atoll run --apply``).

The LSP path never uses this: there the editor applies the edit. Files changed since the
crew staged them are conflicts and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from atoll.agents.staging import WorkspaceDiff


@dataclass
class Applied:
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def apply_diff(diff: WorkspaceDiff, root: Path) -> Applied:
    """Apply every change whose file still holds the text the crew started from."""
    out = Applied()
    for change in diff.changes:
        target = root / change.path
        source = root / (change.old_path or change.path)
        if change.kind == "added":
            ok = not target.exists()
        else:
            ok = _read(source) == change.old_text and (
                change.kind != "renamed" or not target.exists()
            )
        if not ok:
            out.conflicts.append(change.path)
            continue
        if change.kind == "deleted":
            source.unlink()
        elif change.kind == "renamed":
            target.parent.mkdir(parents=True, exist_ok=True)
            source.rename(target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.new_text or "", encoding="utf-8")
        out.files.append(change.path)
    return out
