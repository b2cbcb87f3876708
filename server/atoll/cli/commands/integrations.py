"""``atoll integrations``: hand atoll's endpoints to tools people already use.

``continue`` writes a Continue (continue.dev) configuration whose chat and autocomplete
models are atoll's configured OpenAI-compatible endpoints; ``vscode-tasks`` adds a
"Delegate to AI crew" task to ``.vscode/tasks.json`` that runs ``atoll run`` on a
requirement file. Neither replaces a user's file without keeping a backup first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from atoll.cli.common import (
    choose_workspace,
    console,
    err_console,
    fail,
    print_json,
    workspace_config,
)
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.config import AtollConfig

TASK_LABEL = "Delegate to AI crew"


class IntegrationError(ValueError):
    """An existing file cannot be merged with, or nothing useful can be written."""


@dataclass(frozen=True)
class WriteResult:
    path: Path
    changed: bool
    backup: Path | None


def write_with_backup(path: Path, text: str) -> WriteResult:
    """Write ``text`` to ``path``; an existing, different file is first copied aside."""
    backup: Path | None = None
    if path.exists():
        if path.read_text(encoding="utf-8", errors="replace") == text:
            return WriteResult(path, False, None)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        n = 1
        while backup.exists():
            backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
            n += 1
        shutil.copy2(path, backup)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.atoll-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return WriteResult(path, True, backup)


# --- Continue -------------------------------------------------------------------------


def continue_config_path() -> Path:
    """Continue's global config: ``$CONTINUE_GLOBAL_DIR/config.yaml`` or ``~/.continue/``."""
    folder = os.environ.get("CONTINUE_GLOBAL_DIR") or str(Path.home() / ".continue")
    return Path(folder) / "config.yaml"


def _yaml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML scalar


def continue_config(config: AtollConfig) -> tuple[str, list[str]]:
    """Continue's ``config.yaml`` text for atoll's endpoints, and warnings for missing ones."""
    warnings: list[str] = []
    models: list[tuple[str, str, str, list[str], str]] = []
    chat = config.agents.endpoint
    if chat.base_url:
        models.append(
            ("atoll chat", chat.base_url, chat.model, ["chat", "edit", "apply"], "agents.endpoint")
        )
    else:
        warnings.append(
            "agents.endpoint.base_url is not set: no chat model (point it at the GPU box's vLLM)"
        )
    complete = config.completion.endpoint
    if complete.base_url:
        models.append(
            (
                "atoll autocomplete",
                complete.base_url,
                complete.model,
                ["autocomplete"],
                "completion.endpoint",
            )
        )
    else:
        warnings.append(
            "completion.endpoint.base_url is not set: atoll completes in-process, which Continue "
            "cannot reach; run `python -m llama_cpp.server --model X.gguf` and set it"
        )
    if not models:
        raise IntegrationError(
            "no endpoint is configured: set agents.endpoint.base_url and/or "
            "completion.endpoint.base_url (atoll.toml, ATOLL_* or --set) first"
        )
    lines = [
        "# Written by `atoll integrations continue`: Continue talks to atoll's endpoints.",
        "# API keys are not written here; add `apiKey:` yourself if your server needs one.",
        "name: atoll",
        "version: 0.0.1",
        "schema: v1",
        "models:",
    ]
    for name, base_url, model, roles, key in models:
        lines += [
            f"  - name: {_yaml(name)}",
            "    provider: openai",
            f"    model: {_yaml(model or 'default')}",
            f"    apiBase: {_yaml(base_url)}",
            f"    roles: [{', '.join(roles)}]",
            f"    # from atoll's {key}",
        ]
    return "\n".join(lines) + "\n", warnings


# --- VS Code tasks ---------------------------------------------------------------------

_JSONC_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[\]}])")


def parse_jsonc(text: str) -> Any:
    """JSON with comments and trailing commas (what VS Code accepts in tasks.json)."""

    def keep_strings(match: re.Match[str]) -> str:
        token = match.group(0)
        return token if token.startswith('"') else ""

    stripped = _JSONC_TOKEN.sub(keep_strings, text)
    # Trailing commas, outside strings: re-tokenize so commas inside strings are untouched.
    parts = re.split(r'("(?:\\.|[^"\\])*")', stripped)
    cleaned = "".join(p if i % 2 else _TRAILING_COMMA.sub(r"\1", p) for i, p in enumerate(parts))
    return json.loads(cleaned) if cleaned.strip() else {}


def delegate_task(atoll: str, requirement: str | None) -> dict[str, Any]:
    """The task: ``atoll run`` on ``requirement``, else on the file open in the editor."""
    return {
        "label": TASK_LABEL,
        "detail": "atoll run: hand a requirement document to the crew "
        "(Architect → Coder → Reviewer → Tester)",
        "type": "process",
        "command": atoll,
        "args": ["run", requirement or "${file}", "--workspace", "${workspaceFolder}"],
        "options": {"cwd": "${workspaceFolder}"},
        "problemMatcher": [],
        "presentation": {"reveal": "always", "panel": "dedicated", "clear": True},
    }


def merge_tasks(existing: Any, task: dict[str, Any]) -> dict[str, Any]:
    """``existing`` tasks.json content with ``task`` added (or replacing the one with its label)."""
    if not isinstance(existing, dict):
        raise IntegrationError("tasks.json does not hold a JSON object")
    merged = dict(existing)
    merged.setdefault("version", "2.0.0")
    tasks = merged.get("tasks", [])
    if not isinstance(tasks, list):
        raise IntegrationError('"tasks" in tasks.json is not a list')
    kept = [t for t in tasks if not (isinstance(t, dict) and t.get("label") == TASK_LABEL)]
    merged["tasks"] = [*kept, task]
    return merged


def atoll_executable(root: Path) -> str:
    """The ``atoll`` next to the running interpreter (a venv's), else the one on PATH.

    One inside the workspace is written relative to it, so the task survives a clone.
    """
    beside = Path(sys.executable).parent / ("atoll.exe" if os.name == "nt" else "atoll")
    found = str(beside) if beside.exists() else shutil.which("atoll")
    if found is None:
        return "atoll"
    try:
        inside = Path(found).relative_to(root.resolve())
    except ValueError:
        return found
    return "${workspaceFolder}/" + inside.as_posix()


# --- CLI ---------------------------------------------------------------------------------


def _report(result: WriteResult, what: str, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        print_json(
            {"path": result.path, "changed": result.changed, "backup": result.backup, **extra}
        )
        return
    if not result.changed:
        console.print(f"Already up to date: {what} in {result.path}")
        return
    if result.backup is not None:
        console.print(f"Backed up your previous file to {result.backup}")
    console.print(f"Wrote {what} to {result.path}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Connect atoll to other tools (Continue, VS Code tasks).", no_args_is_help=True
    )
    app.add_typer(group, name="integrations")

    @group.command("continue")
    def continue_(
        output: Path = typer.Option(
            None, "--output", "-o", help="Config file to write (default: ~/.continue/config.yaml)."
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Print the config instead of writing it."
        ),
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Write a Continue config whose chat and autocomplete models are atoll's endpoints."""
        _, loaded = workspace_config(workspace, sets)
        try:
            text, warnings = continue_config(loaded.config)
        except IntegrationError as exc:
            fail(str(exc))
        for warning in warnings:
            err_console.print(f"[yellow]note:[/] {warning}", highlight=False)
        if dry_run:
            if as_json:
                print_json({"config": text, "warnings": warnings})
            else:
                console.print(text, highlight=False, markup=False)
            return
        try:
            result = write_with_backup(output or continue_config_path(), text)
        except OSError as exc:
            fail(f"cannot write the Continue config: {exc}")
        _report(result, "the Continue config", as_json, {"warnings": warnings})

    @group.command("vscode-tasks")
    def vscode_tasks(
        requirement: str = typer.Option(
            None,
            "--requirement",
            "-r",
            help="Requirement file the task runs on (default: the file open in the editor).",
        ),
        workspace: Workspace = None,
        as_json: AsJson = False,
    ) -> None:
        """Add a "Delegate to AI crew" task running `atoll run` to .vscode/tasks.json."""
        root = choose_workspace(workspace)
        path = root / ".vscode" / "tasks.json"
        existing: Any = {}
        if path.exists():
            try:
                existing = parse_jsonc(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                fail(f"{path} is not valid JSON(C), left untouched: {exc}")
        task = delegate_task(atoll_executable(root), requirement)
        try:
            merged = merge_tasks(existing, task)
        except IntegrationError as exc:
            fail(f"{path}: {exc}; left untouched")
        try:
            result = write_with_backup(
                path, json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
            )
        except OSError as exc:
            fail(f"cannot write {path}: {exc}")
        _report(result, f'the "{TASK_LABEL}" task', as_json, {"task": task})
