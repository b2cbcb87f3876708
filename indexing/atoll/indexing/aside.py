"""Setting damaged or outdated index files aside: renamed next to themselves, never deleted."""

from __future__ import annotations

import time
from pathlib import Path


def aside_name(path: Path, tag: str) -> Path:
    """An unused sibling name ``<name>.<tag>-<time>`` (``-2``, ``-3``… within one second).

    Two set-asides in the same second must not land on one name: renaming a file onto
    the first would delete it, renaming a folder onto it fails.
    """
    stem = f"{path.name}.{tag}-{time.strftime('%Y%m%d%H%M%S')}"
    target, n = path.with_name(stem), 1
    while target.exists() or target.is_symlink():
        n += 1
        target = path.with_name(f"{stem}-{n}")
    return target


def set_aside(path: Path, tag: str) -> Path:
    """Rename ``path`` to an unused sibling name and return it."""
    target = aside_name(path, tag)
    path.rename(target)
    return target
