"""The staged copy of a workspace the crew works in, and the diff it produces.

Containment is the core safety property: the crew never writes the user's files. A run
copies the workspace (open buffers' unsaved text over the files on disk) into
``<run>/base`` (the snapshot) and ``<run>/work`` (what the tools and commands change),
both in the user's cache directory, outside the workspace; ``work`` is made a git
repository of its own before the crew starts, so ``git`` inside it never climbs into the
user's repository. Every path a tool receives is resolved and must stay inside ``work``;
commands see only ``work`` (:mod:`atoll.agents.sandbox`). The result is the difference
between the two folders, within the run's write limits.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from atoll.agents.errors import PathEscapeError, ToolError
from atoll.agents.sandbox import init_repository

# Folders that are build output, caches or other tools' state: never staged.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".atoll",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        "target",
        "dist",
        "build",
    }
)
MAX_FILE_BYTES = 1_000_000
MAX_FILES = 5000
MAX_CHANGES = 1000  # files in one result: a refactor touches fewer; a runaway command more

ChangeKind = Literal["modified", "added", "deleted", "renamed"]


@dataclass(frozen=True)
class FileChange:
    """One file's change; paths are POSIX paths relative to the workspace root."""

    path: str
    kind: ChangeKind
    old_text: str | None
    new_text: str | None
    old_path: str | None = None  # the source of a rename

    def unified(self) -> str:
        old_name = f"a/{self.old_path or self.path}" if self.old_text is not None else "/dev/null"
        new_name = f"b/{self.path}" if self.new_text is not None else "/dev/null"
        lines = difflib.unified_diff(
            (self.old_text or "").splitlines(keepends=True),
            (self.new_text or "").splitlines(keepends=True),
            old_name,
            new_name,
        )
        body = "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )
        if self.kind == "renamed" and not body:
            return f"rename {self.old_path} -> {self.path}\n"
        return body


@dataclass(frozen=True)
class WriteLimits:
    """What a run may produce (``agents.sandbox.max_write_kb`` / ``max_run_kb``)."""

    max_file_bytes: int = 2048 * 1024
    max_run_bytes: int = 32768 * 1024


@dataclass(frozen=True)
class WorkspaceDiff:
    """Every change a run made, in path order, and what was left out of it and why."""

    changes: tuple[FileChange, ...] = ()
    left_out: tuple[tuple[str, str], ...] = ()  # (path, reason)

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def files(self) -> list[str]:
        return [c.path for c in self.changes]

    def unified(self) -> str:
        return "".join(change.unified() for change in self.changes)

    def stat(self) -> str:
        text = ", ".join(f"{c.kind} {c.path}" for c in self.changes) or "no changes"
        if self.left_out:
            text += "; left out: " + ", ".join(f"{p} ({why})" for p, why in self.left_out)
        return text


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _walk(root: Path) -> Iterator[Path]:
    """Files and symlinks under ``root``, skipping :data:`SKIP_DIRS`, in sorted order."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = Path(folder)
        for name in sorted(files):
            yield base / name
        for name in dirs:
            if (base / name).is_symlink():
                yield base / name


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _tree_bytes(top: Path) -> int:
    total = 0
    for path in _walk(top):
        try:
            st = path.lstat()
        except OSError:
            continue
        total += st.st_size if not path.is_symlink() else 0
    return total


def _kinds(top: Path) -> dict[str, str]:
    """``rel -> "symlink" | "file" | "folder"`` for every entry under ``top``."""
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        base = Path(folder)
        for name in (*dirs, *files):
            path = base / name
            kind = "symlink" if path.is_symlink() else "folder" if path.is_dir() else "file"
            out[path.relative_to(top).as_posix()] = kind
    return out


def _kind_changes(base: Path, work: Path) -> dict[str, str]:
    """Paths that are a symlink on one side and something else on the other."""
    before, after = _kinds(base), _kinds(work)
    out: dict[str, str] = {}
    for rel in sorted(set(before) & set(after)):
        old, new = before[rel], after[rel]
        below = any(rel.startswith(p + "/") for p in out)
        if old != new and "symlink" in (old, new) and not below:
            out[rel] = f"was a {old}, is now a {new}"
    return out


class StagedWorkspace:
    """A run's copy of the workspace: ``base`` (snapshot) and ``work`` (edited by tools)."""

    def __init__(self, run_dir: Path, limits: WriteLimits | None = None) -> None:
        self.run_dir = run_dir
        self.base = run_dir / "base"
        self.work = run_dir / "work"
        self.limits = limits or WriteLimits()
        self._work_real = self.work.resolve()

    @classmethod
    def create(
        cls,
        root: Path,
        run_dir: Path,
        buffers: Mapping[Path, str] | None = None,
        limits: WriteLimits | None = None,
    ) -> StagedWorkspace:
        """Copy ``root`` (with unsaved ``buffers`` over their files) into ``run_dir``."""
        root = root.resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(run_dir, 0o700)  # the copy is the user's code: not for other accounts
        staged = cls(run_dir, limits)
        overlay: dict[Path, str] = {}
        for path, text in (buffers or {}).items():
            try:
                overlay[Path(path).resolve().relative_to(root)] = text
            except ValueError:
                continue  # an open file outside the workspace is not part of the task
        count = 0
        for source in _walk(root):
            rel = source.relative_to(root)
            if source.is_symlink():
                target = os.readlink(source)
                for top in (staged.base, staged.work):
                    (top / rel).parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(target, top / rel)
                continue
            if rel in overlay:
                data = overlay.pop(rel).encode("utf-8")
            else:
                try:
                    if source.stat().st_size > MAX_FILE_BYTES:
                        continue
                    data = source.read_bytes()
                except OSError:
                    continue
            count += 1
            if count > MAX_FILES:
                break
            for top in (staged.base, staged.work):
                (top / rel).parent.mkdir(parents=True, exist_ok=True)
                (top / rel).write_bytes(data)
        for rel, text in overlay.items():  # unsaved buffers of files not yet on disk
            for top in (staged.base, staged.work):
                (top / rel).parent.mkdir(parents=True, exist_ok=True)
                (top / rel).write_text(text, encoding="utf-8")
        staged.base.mkdir(exist_ok=True)
        staged.work.mkdir(exist_ok=True)
        staged._work_real = staged.work.resolve()
        init_repository(staged.work)
        return staged

    @classmethod
    def view(cls, root: Path) -> StagedWorkspace:
        """The workspace itself, for read-only tools (quick answers): no copy is made."""
        view = cls(root)
        view.base = view.work = root
        view._work_real = root.resolve()
        return view

    # -- containment -------------------------------------------------------------------

    def resolve(self, path: str) -> Path:
        """The real path of ``path`` inside ``work``; anything that leaves it is refused."""
        if not isinstance(path, str) or not path.strip():
            raise ToolError("a path is required (relative to the workspace root, e.g. src/app.py)")
        if "\x00" in path:
            raise PathEscapeError(f"refused path {path!r}: it contains a NUL character")
        pure = PurePosixPath(path.replace("\\", "/"))
        if pure.is_absolute() or Path(path).is_absolute() or (pure.parts and ":" in pure.parts[0]):
            raise PathEscapeError(
                f"refused path {path!r}: absolute paths are not allowed; use a path "
                "relative to the workspace root"
            )
        candidate = self.work.joinpath(*pure.parts)
        try:
            real = candidate.resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise PathEscapeError(f"refused path {path!r}: {exc}") from None
        if real != self._work_real and self._work_real not in real.parents:
            why = "a symlink on it points" if ".." not in pure.parts else "it points"
            raise PathEscapeError(
                f"refused path {path!r}: {why} outside the workspace; only files inside "
                "the workspace can be read or changed"
            )
        return real

    def relative(self, real: Path) -> str:
        return real.relative_to(self._work_real).as_posix() or "."

    # -- file operations ------------------------------------------------------------------

    def read_text(self, path: str) -> str:
        real = self.resolve(path)
        if real.is_dir():
            raise ToolError(f"{path} is a directory; use list_dir")
        if not real.is_file():
            raise ToolError(f"{path} does not exist; use list_dir or search_code to find files")
        data = real.read_bytes()
        if not _is_text(data):
            raise ToolError(f"{path} is a binary file")
        return data.decode("utf-8")

    def write_text(self, path: str, text: str) -> Path:
        real = self.resolve(path)
        if real.is_dir():
            raise ToolError(f"{path} is a directory")
        self._check_write(path, real, len(text.encode("utf-8")))
        real.parent.mkdir(parents=True, exist_ok=True)
        self.resolve(self.relative(real.parent))  # the created folders are inside too
        real.write_text(text, encoding="utf-8")
        return real

    def _check_write(self, path: str, real: Path, size: int) -> None:
        """Refuse a write over the per-file limit, or one that takes the run over its own."""
        limit = self.limits.max_file_bytes
        if size > limit:
            raise ToolError(
                f"refused: {path} would be {_size(size)}, over the limit of {_size(limit)} per "
                "written file (agents.sandbox.max_write_kb); write smaller files"
            )
        old = real.stat().st_size if real.is_file() else 0
        grown = self.growth() + size - old
        if grown > self.limits.max_run_bytes:
            raise ToolError(
                f"refused: writing {path} takes this run to {_size(grown)} of new content, over "
                f"its limit of {_size(self.limits.max_run_bytes)} (agents.sandbox.max_run_kb)"
            )

    def growth(self) -> int:
        """Bytes the work folder holds beyond the snapshot (new and grown files)."""
        return max(0, _tree_bytes(self.work) - _tree_bytes(self.base))

    def _entry(self, path: str) -> Path:
        """The directory entry itself (a symlink is not followed), inside ``work``."""
        real = self.resolve(path)
        pure = PurePosixPath(path.replace("\\", "/"))
        if pure.name in ("", ".", ".."):
            return real
        entry = self.resolve(str(pure.parent) or ".") / pure.name
        return entry if entry.is_symlink() else real

    def delete(self, path: str) -> None:
        entry = self._entry(path)
        if not (entry.is_file() or entry.is_symlink()):
            raise ToolError(f"{path} is not a file")
        entry.unlink()

    def rename(self, path: str, new_path: str) -> None:
        source, target = self._entry(path), self.resolve(new_path)
        if not (source.is_file() or source.is_symlink()):
            raise ToolError(f"{path} is not a file")
        if target.exists():
            raise ToolError(f"{new_path} already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)

    def list_dir(self, path: str = ".") -> list[str]:
        real = self.resolve(path or ".")
        if not real.is_dir():
            raise ToolError(f"{path} is not a directory")
        entries = []
        for child in sorted(real.iterdir()):
            if child.name in SKIP_DIRS:
                continue
            entries.append(child.name + ("/" if child.is_dir() else ""))
        return entries

    # -- the result -----------------------------------------------------------------------

    def _texts(self, top: Path, left_out: dict[str, str] | None = None) -> dict[str, str]:
        out: dict[str, str] = {}
        limit = self.limits.max_file_bytes
        for path in _walk(top):
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(top).as_posix()
            size = path.stat().st_size
            if size > limit:
                if left_out is not None:
                    left_out[rel] = f"{_size(size)}, over the {_size(limit)} per-file limit"
                continue
            data = path.read_bytes()
            if _is_text(data):
                out[rel] = data.decode("utf-8")
        return out

    def diff(self) -> WorkspaceDiff:
        """What changed between the snapshot and the work folder (renames detected).

        A path whose kind changed (a symlink replaced by a file or a folder, or the other
        way round) and everything below it is left out and named: applying it could
        write through a link into somewhere else.
        """
        left_out: dict[str, str] = {}
        before = self._texts(self.base)
        after = self._texts(self.work, left_out)
        for path, why in _kind_changes(self.base, self.work).items():
            left_out[path] = why
            for tree in (before, after):
                for rel in [r for r in tree if r == path or r.startswith(path + "/")]:
                    if tree is after and rel != path:
                        left_out.setdefault(rel, f"below {path}, whose kind changed")
                    tree.pop(rel)
        for rel in list(before):
            if rel not in after and rel in left_out:
                before.pop(rel)  # too large now: not a deletion
        deleted = {p: t for p, t in before.items() if p not in after}
        added = {p: t for p, t in after.items() if p not in before}
        changes: list[FileChange] = []
        for path in sorted(p for p in before if p in after and before[p] != after[p]):
            changes.append(FileChange(path, "modified", before[path], after[path]))
        for path, text in sorted(added.items()):
            source = next((old for old, t in sorted(deleted.items()) if t == text), None)
            if source is not None:
                del deleted[source]
                changes.append(FileChange(path, "renamed", text, text, old_path=source))
            else:
                changes.append(FileChange(path, "added", None, text))
        for path, text in sorted(deleted.items()):
            changes.append(FileChange(path, "deleted", text, None))
        changes.sort(key=lambda c: c.path)
        if len(changes) > MAX_CHANGES:
            more = len(changes) - MAX_CHANGES
            left_out[changes[MAX_CHANGES].path] = (
                f"and {more - 1} more changed files: one result holds at most {MAX_CHANGES}"
            )
            changes = changes[:MAX_CHANGES]
        return WorkspaceDiff(tuple(changes), tuple(sorted(left_out.items())))

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
