"""Index freshness: is the workspace index older than the files it describes?

Read from the file system only (the database's modification time against the source
files'), so it works whatever the index's schema and never locks the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from atoll.doctor.checks import CheckResult, DoctorContext, Status, check

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db-wal", ".sqlite-wal")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "target"}
MAX_FILES = 50_000  # a doctor walks, it does not crawl


def index_written_at(index_dir: Path) -> float | None:
    """When the index database was last written, or None when there is none."""
    if not index_dir.is_dir():
        return None
    stamps = [p.stat().st_mtime for p in index_dir.rglob("*") if p.name.endswith(DB_SUFFIXES)]
    return max(stamps, default=None)


def changed_since(root: Path, since: float, skip: Path) -> tuple[int, str]:
    """How many files under ``root`` changed after ``since``, and the newest of them."""
    count, newest, newest_time, seen = 0, "", since, 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [
            d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and here / d != skip
        ]
        for name in files:
            seen += 1
            if seen > MAX_FILES:
                return count, newest
            try:
                mtime = (here / name).stat().st_mtime
            except OSError:
                continue
            if mtime > since:
                count += 1
                if mtime >= newest_time:
                    newest, newest_time = str((here / name).relative_to(root)), mtime
    return count, newest


@check
def index_freshness(ctx: DoctorContext) -> list[CheckResult]:
    config = ctx.loaded.config
    if not config.indexing.enabled:
        return [CheckResult("index", Status.SKIP, "indexing.enabled is off")]
    index_dir = (ctx.workspace / config.indexing.index_dir).resolve()
    written = index_written_at(index_dir)
    if written is None:
        return [
            CheckResult(
                "index",
                Status.WARN,
                f"no index under {index_dir} yet",
                "open the workspace in the editor (atoll indexes on start)",
                required=False,
            )
        ]
    count, newest = changed_since(ctx.workspace, written, index_dir)
    if count:
        return [
            CheckResult(
                "index",
                Status.WARN,
                f"{count} file(s) changed since the index was last written (newest: {newest})",
                "the server re-indexes changed files on start and on save; open the workspace",
                required=False,
            )
        ]
    return [CheckResult("index", Status.OK, f"{index_dir} is up to date with the files")]
