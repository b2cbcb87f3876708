"""The staged copy of a workspace the crew works in, and the diff it produces.

Containment is the core safety property: the crew never writes the user's files. A run
copies the workspace (open buffers' unsaved text over the files on disk) into
``<run>/base`` (the snapshot) and ``<run>/work`` (what the tools change); every path a
tool receives is resolved and must stay inside ``work``. The result is the difference
between the two folders.
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
class WorkspaceDiff:
    """Every change a run made, in path order."""

    changes: tuple[FileChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def files(self) -> list[str]:
        return [c.path for c in self.changes]

    def unified(self) -> str:
        return "".join(change.unified() for change in self.changes)

    def stat(self) -> str:
        return ", ".join(f"{c.kind} {c.path}" for c in self.changes) or "no changes"


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


class StagedWorkspace:
    """A run's copy of the workspace: ``base`` (snapshot) and ``work`` (edited by tools)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.base = run_dir / "base"
        self.work = run_dir / "work"
        self._work_real = self.work.resolve()

    @classmethod
    def create(
        cls, root: Path, run_dir: Path, buffers: Mapping[Path, str] | None = None
    ) -> StagedWorkspace:
        """Copy ``root`` (with unsaved ``buffers`` over their files) into ``run_dir``."""
        root = root.resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        staged = cls(run_dir)
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
        real.parent.mkdir(parents=True, exist_ok=True)
        self.resolve(self.relative(real.parent))  # the created folders are inside too
        real.write_text(text, encoding="utf-8")
        return real

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

    def _texts(self, top: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        for path in _walk(top):
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if _is_text(data):
                out[path.relative_to(top).as_posix()] = data.decode("utf-8")
        return out

    def diff(self) -> WorkspaceDiff:
        """What changed between the snapshot and the work folder (renames detected)."""
        before, after = self._texts(self.base), self._texts(self.work)
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
        return WorkspaceDiff(tuple(changes))

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)
