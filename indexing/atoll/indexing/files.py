"""Which files of a workspace get indexed: ``.gitignore``, ``.atollignore``, size and binary checks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
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


@dataclass(frozen=True)
class SourceText:
    text: str
    replaced: bool  # not valid UTF-8: decoded with replacement characters


class SkipFile(Exception):
    """A file that is not indexed (binary, too large, unreadable); the message says why."""


def is_vendored(relative: str) -> bool:
    return any(part in VENDORED_PARTS for part in relative.split("/")[:-1])


def decode(data: bytes) -> SourceText:
    try:
        return SourceText(data.decode("utf-8"), False)
    except UnicodeDecodeError:
        return SourceText(data.decode("utf-8", "replace"), True)


def read_source(path: Path, max_bytes: int) -> tuple[bytes, SourceText]:
    """The bytes and text of a file, or :class:`SkipFile`."""
    if path.suffix.lower() in BINARY_SUFFIXES:
        raise SkipFile("binary file type")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"larger than {max_bytes // 1024} KiB")
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    if b"\0" in data[:8192]:
        raise SkipFile("binary content")
    source = decode(data)
    if source.replaced:
        log.info("%s is not valid UTF-8: decoded with replacement characters", path)
    return data, source


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


def walk(
    root: Path, extra_excludes: Sequence[str] = (), *, follow_links: bool = False
) -> Iterator[Path]:
    """Every candidate file under ``root`` (ignored folders are never entered), sorted."""
    rules = IgnoreRules(root, extra_excludes)
    visited: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=follow_links):
        if follow_links:
            real = os.path.realpath(folder)
            if real in visited:  # a link cycle, or a folder reached twice
                dirs[:] = []
                continue
            visited.add(real)
        rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for d in sorted(dirs):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d in SKIP_DIRS or d.endswith(".egg-info") or rules.ignored(rel, True):
                continue
            if not follow_links and os.path.islink(os.path.join(folder, d)):
                continue
            keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if Path(name).suffix.lower() in BINARY_SUFFIXES or rules.ignored(rel, False):
                continue
            yield Path(folder) / name
