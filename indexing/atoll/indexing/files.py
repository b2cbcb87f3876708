"""Which files of a workspace get indexed: ``.gitignore``, ``.atollignore``, size and binary checks."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

log = logging.getLogger(__name__)

# Never descended into, whatever the ignore files say.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".tox",
        ".atoll",
        "node_modules",
        ".idea",
        ".vscode",
    }
)
BINARY_SUFFIXES = frozenset(
    [
        ".pyc",
        ".pyo",
        ".so",
        ".dll",
        ".dylib",
        ".o",
        ".a",
        ".lib",
        ".exe",
        ".bin",
        ".dat",
        ".db",
        ".sqlite",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".webp",
        ".pdf",
        ".zip",
        ".gz",
        ".bz2",
        ".xz",
        ".zst",
        ".tar",
        ".whl",
        ".jar",
        ".class",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".mp3",
        ".mp4",
        ".wav",
        ".ogg",
        ".gguf",
        ".pt",
        ".pth",
        ".safetensors",
        ".onnx",
        ".npy",
        ".npz",
        ".pkl",
        ".pickle",
        ".mo",
        ".qm",
    ]
)
IGNORE_FILES = (".gitignore", ".atollignore")
# Paths holding other people's code: ranked after the workspace's own definitions.
VENDORED_PARTS = frozenset(
    {
        "site-packages",
        "dist-packages",
        "node_modules",
        "vendor",
        "third_party",
        "third-party",
        "external",
        ".venv",
        "venv",
    }
)


# Names that are not UTF-8 live in Python strings as surrogate escapes (U+DC80–U+DCFF,
# one per undecodable byte). SQLite stores only UTF-8, so the index keeps them as the
# private-use code points U+10FF80–U+10FFFF instead, one to one, and maps them back.
_ESCAPED = {0xDC00 + b: 0x10FF00 + b for b in range(0x80, 0x100)}
_UNESCAPED = {v: k for k, v in _ESCAPED.items()}
_RESERVED_FROM = "\U0010ff80"


@dataclass(frozen=True)
class SourceText:
    text: str
    replaced: bool  # not valid UTF-8: decoded with replacement characters


class SkipFile(Exception):
    """A file that is not indexed (binary, too large, unreadable); the message says why."""


def shown(relative: str) -> str:
    """A path as people read it: undecodable bytes of a name as ``\\xNN``."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace")


def to_db(relative: str) -> str:
    """The index's spelling of a path: valid UTF-8 whatever the file system gave."""
    if relative.isascii():
        return relative
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return relative.translate(_ESCAPED)
    return relative


def from_db(stored: str) -> str:
    """The file system's path for what :func:`to_db` stored."""
    if stored.isascii() or max(stored) < _RESERVED_FROM:
        return stored
    return stored.translate(_UNESCAPED)


def storable(relative: str) -> str:
    """Why a path cannot be indexed as itself ("" when it can)."""
    if not relative.isascii() and max(relative) >= _RESERVED_FROM:
        return "its name uses private-use characters the index reserves"
    try:
        relative.translate(_ESCAPED).encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid Unicode"
    return ""


def is_vendored(relative: str) -> bool:
    return any(part in VENDORED_PARTS for part in relative.split("/")[:-1])


def decode(data: bytes) -> SourceText:
    try:
        return SourceText(data.decode("utf-8"), False)
    except UnicodeDecodeError:
        return SourceText(data.decode("utf-8", "replace"), True)


def read_source(path: Path, max_bytes: int) -> tuple[bytes, SourceText, os.stat_result]:
    """The bytes, text and status of a regular file, or :class:`SkipFile`.

    The file is opened without blocking and checked on the open descriptor: a FIFO,
    socket or device (or a file swapped for one since the walk) is skipped, never read.
    """
    if path.suffix.lower() in BINARY_SUFFIXES:
        raise SkipFile("binary file type")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise SkipFile("vanished before it was read") from exc
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SkipFile("not a regular file (a FIFO, socket or device)")
            if st.st_size > max_bytes:
                raise SkipFile(f"larger than {max_bytes // 1024} KiB")
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SkipFile(f"larger than {max_bytes // 1024} KiB")
    if b"\0" in data[:8192]:
        raise SkipFile("binary content")
    source = decode(data)
    if source.replaced:
        log.info("%s is not valid UTF-8: decoded with replacement characters", shown(str(path)))
    return data, source, st


class IgnoreRules:
    """Gitignore-style rules of a tree: nested ``.gitignore``/``.atollignore`` and config excludes."""

    def __init__(self, root: Path, extra: Sequence[str] = ()) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self.extra = pathspec.GitIgnoreSpec.from_lines(list(extra)) if extra else None

    def _spec(self, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        if rel_dir not in self._specs:
            lines: list[str] = []
            folder = self.root / rel_dir if rel_dir else self.root
            for name in IGNORE_FILES:
                try:
                    lines.extend((folder / name).read_text("utf-8", "replace").splitlines())
                except OSError:
                    continue
            self._specs[rel_dir] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[rel_dir]

    def ignored(self, relative: str, is_dir: bool) -> bool:
        """Whether a root-relative POSIX path is ignored by any applicable rule."""
        probe = relative + "/" if is_dir else relative
        if self.extra is not None and self.extra.match_file(probe):
            return True
        parts = relative.split("/")
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            spec = self._spec(base)
            if spec is not None:
                sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
                if spec.match_file(sub):
                    return True
        return False


Skipped = Callable[[str, str], None]


def _log_skip(relative: str, why: str) -> None:
    log.info("skipped %s: %s", shown(relative), why)


def walk(
    root: Path,
    extra_excludes: Sequence[str] = (),
    *,
    follow_links: bool = False,
    skipped: Skipped = _log_skip,
) -> Iterator[tuple[str, os.stat_result]]:
    """Every regular file under ``root`` as (relative POSIX path, its status), sorted.

    Ignored folders are never entered. Entries are judged by ``lstat``: FIFOs, sockets,
    devices, broken links and unreadable folders are reported to ``skipped(rel, why)``
    (one log line each by default) and passed over. A link to a regular file inside the
    workspace counts as that file. Links to folders, and links leading out of the
    workspace, are followed only with ``follow_links`` (cycles are cut): a repository
    must not make the index read the user's other files.
    """
    rules = IgnoreRules(root, extra_excludes)
    real_root = os.path.realpath(root)
    visited: set[str] = {real_root}
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            skipped(rel_dir or ".", f"folder not readable: {exc.strerror or exc}")
            continue
        folders: list[str] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            found = _classify(entry, rel, rules, follow_links, visited, skipped, real_root)
            if isinstance(found, str):
                folders.append(rel)
            elif found is not None:
                yield rel, found
        pending.extend(reversed(folders))


def _classify(
    entry: os.DirEntry[str],
    rel: str,
    rules: IgnoreRules,
    follow_links: bool,
    visited: set[str],
    skipped: Skipped,
    real_root: str,
) -> os.stat_result | str | None:
    """``"dir"`` to enter, a regular file's status to index, or None to pass over."""
    try:
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            st = entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        if entry.is_symlink():
            skipped(rel, "a broken symbolic link")
        return None  # vanished since the folder was listed
    except OSError as exc:
        skipped(rel, f"not readable: {exc.strerror or exc}")
        return None
    link = entry.is_symlink()
    if link and not follow_links:
        real = os.path.realpath(entry.path)
        if stat.S_ISDIR(st.st_mode) or os.path.commonpath([real, real_root]) != real_root:
            if not stat.S_ISDIR(st.st_mode):
                skipped(rel, "a link out of the workspace (indexing.follow_symlinks follows it)")
            return None
    if stat.S_ISDIR(st.st_mode):
        name = entry.name
        if name in SKIP_DIRS or name.endswith(".egg-info") or rules.ignored(rel, True):
            return None
        if link:
            real = os.path.realpath(entry.path)
            if real in visited:
                return None
            visited.add(real)
        return "dir"
    if Path(entry.name).suffix.lower() in BINARY_SUFFIXES or rules.ignored(rel, False):
        return None
    if not stat.S_ISREG(st.st_mode):
        skipped(rel, "not a regular file (a FIFO, socket or device)")
        return None
    return st
