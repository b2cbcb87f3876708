"""Write a crew's diff into the user's workspace — only when the user asks (``atoll run --apply``).

This is the only module that writes the user's files. The LSP path never uses it: there
the editor applies the edit (see ``atoll.server.crew.edit``, which uses
:func:`unsafe_component` for the same symlink rule).

Every change is checked against the file as it is now: a file changed since the crew
staged it is a conflict and is left alone. Paths are walked one component at a time with
``O_NOFOLLOW`` from a descriptor of the workspace, so a symlink anywhere on the way —
one that was there all along or one swapped in after the diff was made — is refused and
reported, never written through.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from atoll.agents.staging import FileChange, WorkspaceDiff

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Applied:
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # (path, why) for changes refused because of the path itself (a symlink on the way).
    refused: list[tuple[str, str]] = field(default_factory=list)


class UnsafePath(Exception):
    """A component of the path in the real workspace is a symlink or not a folder."""


def unsafe_component(root: Path, rel: str) -> str | None:
    """Why writing ``rel`` under ``root`` could leave ``root`` (None: it cannot).

    Any existing component that is a symlink is refused (the editor, like ``open``,
    would follow it); so is a parent that is not a folder, and a last component that is
    a symlink. Components that do not exist yet are fine: they get created as folders.
    """
    parts = PurePosixPath(rel).parts
    if not parts or any(p in ("..", ".", "") for p in parts) or PurePosixPath(rel).is_absolute():
        return f"{rel} is not a plain relative path"
    here = root
    for index, part in enumerate(parts):
        here = here / part
        try:
            st = here.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"{here.relative_to(root).as_posix()}: {exc.strerror}"
        shown = here.relative_to(root).as_posix()
        if stat.S_ISLNK(st.st_mode):
            return f"{shown} is a symlink in your workspace; not written through (apply it by hand)"
        if index < len(parts) - 1 and not stat.S_ISDIR(st.st_mode):
            return f"{shown} is not a folder in your workspace"
    return None


@contextlib.contextmanager
def _parent_fd(root_fd: int, rel: str, *, create: bool) -> Iterator[tuple[int, str]]:
    """A descriptor of ``rel``'s folder reached without following any symlink."""
    parts = PurePosixPath(rel).parts
    fds: list[int] = []
    current = root_fd
    try:
        for part in parts[:-1]:
            try:
                current = os.open(part, _DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o777, dir_fd=current)
                current = os.open(part, _DIR_FLAGS, dir_fd=current)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(f"{part} on the way to {rel} is a symlink or a file") from None
                raise
            fds.append(current)
        yield current, parts[-1]
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _read(root_fd: int, rel: str) -> str | None:
    """The file's text now, or None when it does not exist or cannot be read as text."""
    try:
        with _parent_fd(root_fd, rel, create=False) as (folder, name):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
            with os.fdopen(fd, "rb") as fh:
                return fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _exists(root_fd: int, rel: str) -> bool:
    try:
        with _parent_fd(root_fd, rel, create=False) as (folder, name):
            os.stat(name, dir_fd=folder, follow_symlinks=False)
            return True
    except FileNotFoundError:
        return False
    except (OSError, UnsafePath):
        return True  # something is in the way: not a place to create a file


def _write(root_fd: int, rel: str, text: str, *, new: bool) -> None:
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_CREAT
    flags |= os.O_EXCL if new else os.O_TRUNC
    with _parent_fd(root_fd, rel, create=True) as (folder, name):
        fd = os.open(name, flags, 0o666, dir_fd=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))


def _unchanged(root_fd: int, change: FileChange) -> bool:
    if change.kind == "added":
        return not _exists(root_fd, change.path)
    source = change.old_path or change.path
    if _read(root_fd, source) != change.old_text:
        return False
    return change.kind != "renamed" or not _exists(root_fd, change.path)


def _apply_one(root_fd: int, change: FileChange) -> None:
    if change.kind == "deleted":
        with _parent_fd(root_fd, change.path, create=False) as (folder, name):
            os.unlink(name, dir_fd=folder)
    elif change.kind == "renamed":
        source = change.old_path or change.path
        with (
            _parent_fd(root_fd, source, create=False) as (src_dir, src_name),
            _parent_fd(root_fd, change.path, create=True) as (dst_dir, dst_name),
        ):
            os.rename(src_name, dst_name, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
    else:
        _write(root_fd, change.path, change.new_text or "", new=change.kind == "added")


def apply_diff(diff: WorkspaceDiff, root: Path) -> Applied:
    """Apply every change whose file still holds the text the crew started from."""
    out = Applied()
    root = root.resolve()
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        for change in diff.changes:
            paths = [change.path] + ([change.old_path] if change.old_path else [])
            why = next((w for p in paths if (w := unsafe_component(root, p))), None)
            if why is not None:
                out.refused.append((change.path, why))
                continue
            if not _unchanged(root_fd, change):
                out.conflicts.append(change.path)
                continue
            try:
                _apply_one(root_fd, change)
            except UnsafePath as exc:  # swapped in between the check and the write
                out.refused.append((change.path, str(exc)))
                continue
            except OSError as exc:
                why = "is a symlink in your workspace" if exc.errno == errno.ELOOP else ""
                out.refused.append((change.path, why or f"{exc.strerror or exc}"))
                continue
            out.files.append(change.path)
    finally:
        os.close(root_fd)
    return out
