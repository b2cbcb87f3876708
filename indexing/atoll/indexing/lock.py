"""One writer per index folder, across processes: an advisory lock that names its holder.

The editor's ``atoll serve``, an ``atoll index`` in a terminal and a second editor
window may all open one workspace. SQLite lets them all read at once, but only one of
them may write the index and own the embedded vector store (Qdrant Edge allows a
single process per shard). That one holds ``<index folder>/writer.lock``: an
``flock`` the kernel drops when the process ends, however it ends, so a lock is never
stale. The file's content says who holds it (pid, command, since when), for the
others' messages.

Within one process the lock is shared and counted: two indexes of one folder in one
process (a test, a benchmark) are one writer.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = "writer.lock"
# The index folder ignores itself, so `git add .` never picks up a 300 MB database.
GITIGNORE = "# atoll's index: local, rebuilt from the sources.\n*\n"


@dataclass(frozen=True)
class Holder:
    """Who writes an index: a process id, the atoll command, and since when."""

    pid: int
    command: str
    since: float

    def describe(self) -> str:
        started = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"pid {self.pid} (atoll {self.command}, since {started})"


_held: dict[str, tuple[int, int]] = {}  # folder → (fd, how many holders in this process)
_held_lock = threading.Lock()


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def holder(folder: Path) -> Holder | None:
    """The process writing the index in ``folder`` (this one included), or None."""
    path = folder / LOCK_NAME
    with _held_lock:
        if _key(folder) in _held:
            return _read(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no index folder, or never written: nobody writes it
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path) or Holder(0, "unknown", time.time())
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return Holder(int(data["pid"]), str(data["command"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def make_index_folder(folder: Path) -> None:
    """Create the index folder with its own ``.gitignore`` (only writers create it)."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, "utf-8")


class WriterLock:
    """The right to write one index folder; ``acquire`` creates the folder."""

    def __init__(self, folder: Path, command: str) -> None:
        self.folder = folder
        self.command = command
        self.held = False

    def acquire(self, wait_s: float = 0.0, poll_s: float = 0.25) -> bool:
        """Take the lock, waiting up to ``wait_s`` seconds; False when another has it."""
        if self.held:
            return True
        key = _key(self.folder)
        deadline = time.monotonic() + wait_s
        while True:
            with _held_lock:
                if key in _held:
                    fd, count = _held[key]
                    _held[key] = (fd, count + 1)
                    self.held = True
                    return True
                if self._try_take(key):
                    self.held = True
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))

    def _try_take(self, key: str) -> bool:
        make_index_folder(self.folder)
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        record = {"pid": os.getpid(), "command": self.command, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        _held[key] = (fd, 1)
        return True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        key = _key(self.folder)
        with _held_lock:
            fd, count = _held.pop(key, (-1, 0))
            if count > 1:
                _held[key] = (fd, count - 1)
            elif fd >= 0:
                os.close(fd)  # closing drops the flock; the stale record says nothing
