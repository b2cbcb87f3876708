"""What every command shares: loading config, JSON output, clean failures."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from atoll.config import LoadedConfig, load_config, parse_assignments

# Human output goes to stdout; diagnostics to stderr so `--json` stays parseable.
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an actionable error and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def find_workspace(start: Path | None = None) -> Path:
    """The nearest folder holding ``atoll.toml`` or ``.git``; else the start folder."""
    here = (start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / "atoll.toml").exists() or (folder / ".git").exists():
            return folder
    return here


def choose_workspace(workspace: Path | None, positional: Path | None = None) -> Path:
    """The workspace from ``-w`` or a positional folder (they must agree), else the nearest one."""
    both = workspace is not None and positional is not None
    if both and workspace.resolve() != positional.resolve():  # type: ignore[union-attr]
        fail(f"two workspaces given: {positional} and -w {workspace}; give one", 2)
    chosen = workspace if workspace is not None else positional
    if chosen is not None:
        root = chosen.expanduser().resolve()
        if not root.is_dir():
            fail(f"{chosen} is not a folder", 2)
        return root
    return find_workspace()


def load(
    workspace: Path | None, sets: list[str] | None = None, *, user_file: Path | None = None
) -> LoadedConfig:
    """Load the config for a command; bad ``--set`` pairs fail, bad files only warn."""
    try:
        cli = parse_assignments(sets or [])
    except ValueError as exc:
        fail(str(exc), 2)
    loaded = load_config(workspace, cli=cli, user_file=user_file)
    for issue in loaded.issues:
        err_console.print(f"[yellow]config:[/] {issue}", highlight=False)
    return loaded


def workspace_config(
    workspace: Path | None,
    sets: list[str] | None,
    positional: Path | None = None,
    *,
    near: Path | None = None,
) -> tuple[Path, LoadedConfig]:
    """The command's workspace (see :func:`choose_workspace`) and its configuration.

    ``near``: a file the command works on; without ``-w`` the workspace is the nearest
    one above that file rather than above the current folder.
    """
    if near is not None and workspace is None:
        root = find_workspace(near.parent)
    else:
        root = choose_workspace(workspace, positional)
    return root, load(root, sets)


def _default(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        # A name that is not UTF-8 is shown with \xNN escapes, never a write error.
        return os.fsencode(value).decode("utf-8", "backslashreplace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")
