"""``atoll complete FILE:LINE:COL``: one inline completion, with its timings.

Positions on the command line are 1-based, as compilers print them (``report.py:12:5``);
``--json`` reports offsets into the file (0-based characters), as the engine sees them.
"""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from atoll.cli.commands._crew_cli import open_index
from atoll.cli.common import console, err_console, fail, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.cli.suggestion import outcome


def parse_location(location: str) -> tuple[Path, int, int]:
    """``path:line:col`` (1-based, like compilers print) → path, 0-based line and column."""
    try:
        path, line, col = location.rsplit(":", 2)
        line_no, col_no = int(line), int(col)
    except ValueError:
        fail(f"expected FILE:LINE:COL (1-based), got {location!r}", 2)
    if line_no < 1 or col_no < 1:
        fail(f"lines and columns count from 1 (like compilers print them), got {location!r}", 2)
    return Path(path), line_no - 1, col_no - 1


def offset_of(text: str, line: int, col: int) -> int:
    """The character offset of a 0-based line and column; a column past the end clamps."""
    lines = text.splitlines(keepends=True)
    # One line past the last is the empty line after a final newline: column 1 only.
    if line > len(lines) or (line == len(lines) and col > 0):
        fail(f"line {line + 1} is past the end of the file ({len(lines)} lines)", 2)
    body = lines[line].rstrip("\r\n") if line < len(lines) else ""
    return sum(len(x) for x in lines[:line]) + min(col, len(body))


def _show(result: Any, backend: Any, note: str) -> None:
    console.print(
        f"[dim]{backend.model.name} · {backend.template.name} · {result.source}[/]",
        highlight=False,
    )
    if result.text:
        console.print(result.text, highlight=False, markup=False)
    if note:
        err_console.print(f"[yellow]{note}[/]", highlight=False)
    stages = "  ".join(f"{k} {v:.1f} ms" for k, v in result.timings_ms.items())
    console.print(
        f"[dim]prompt {result.prompt_tokens} tokens ({result.cached_tokens} cached), "
        f"decoded {result.decode_tokens}; {stages}[/]",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def complete(
        location: str = typer.Argument(..., help="FILE:LINE:COL, 1-based (report.py:12:5)."),
        workspace: Workspace = None,
        index: bool = typer.Option(False, "--index", help="Add context from the workspace index."),
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Complete at a position with the configured model; print the suggestion and timings."""
        from atoll.completion.engine import CompletionEngine, CompletionRequest
        from atoll.completion.factory import BackendError, create_backend

        path, line, col = parse_location(location)
        path = path.resolve()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror or exc}")
        offset = offset_of(text, line, col)
        root, loaded = workspace_config(workspace, sets, near=path)
        config = loaded.config
        with (
            err_console.status("loading the model", spinner="dots")
            if not as_json
            else nullcontext()
        ):
            try:
                backend = create_backend(config)
            except BackendError as exc:
                fail(str(exc))
        code_index = open_index(root, config, index)
        engine = CompletionEngine(
            backend.model, backend.template, config.completion, root=root, index=lambda: code_index
        )
        request = CompletionRequest(uri=path.as_uri(), text=text, offset=offset, path=path)
        try:
            with err_console.status("completing", spinner="dots") if not as_json else nullcontext():
                result = asyncio.run(engine.complete(request))
        finally:
            backend.model.close()
            if code_index is not None:
                code_index.close()
        note = outcome(config, result, backend.model)
        if as_json:
            print_json(
                {**result.as_dict(), "offset": offset, "note": note, "model": backend.status()}
            )
        else:
            _show(result, backend, note)
        if not result.text:
            raise typer.Exit(1)
