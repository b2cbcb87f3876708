"""``atoll complete FILE:LINE:COL``: one inline completion, with its timings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from atoll.cli.common import (
    JSON_OPTION,
    SET_OPTION,
    console,
    fail,
    find_workspace,
    load,
    print_json,
)


def parse_location(location: str) -> tuple[Path, int, int]:
    """``path:line:col`` (1-based, like compilers print) → path, 0-based line and column."""
    try:
        path, line, col = location.rsplit(":", 2)
        return Path(path), int(line) - 1, int(col) - 1
    except ValueError:
        fail(f"expected FILE:LINE:COL (1-based), got {location!r}", 2)


def offset_of(text: str, line: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    if line < 0 or line > len(lines) or (line == len(lines) and col > 0):
        fail(f"line {line + 1} is past the end of the file ({len(lines)} lines)", 2)
    body = lines[line].rstrip("\r\n") if line < len(lines) else ""
    return sum(len(x) for x in lines[:line]) + max(0, min(col, len(body)))


def register(app: typer.Typer) -> None:
    @app.command()
    def complete(
        location: str = typer.Argument(..., help="FILE:LINE:COL, 1-based."),
        workspace: Path = typer.Option(None, "--workspace", "-w", help="Workspace folder."),
        index: bool = typer.Option(False, "--index", help="Add context from the workspace index."),
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
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
        root = find_workspace(workspace or path.parent)
        config = load(root, sets).config
        try:
            backend = create_backend(config)
        except BackendError as exc:
            fail(str(exc))
        code_index: Any = None
        if index:
            try:
                from atoll.indexing import WorkspaceIndex

                code_index = WorkspaceIndex.open(root, config, write=False)
            except Exception as exc:
                console.print(f"[yellow]index unavailable:[/] {exc}")
        engine = CompletionEngine(
            backend.model,
            backend.template,
            config.completion,
            root=root,
            index=lambda: code_index,
        )
        request = CompletionRequest(
            uri=path.as_uri(), text=text, offset=offset_of(text, line, col), path=path
        )
        try:
            result = asyncio.run(engine.complete(request))
        finally:
            backend.model.close()
            if code_index is not None:
                code_index.close()
        data = {**result.as_dict(), "model": backend.status()}
        if as_json:
            print_json(data)
            return
        console.print(f"[dim]{backend.model.name} · {backend.template.name} · {result.source}[/]")
        console.print(result.text or "[dim](no suggestion)[/]", highlight=False, markup=False)
        stages = "  ".join(f"{k} {v:.1f} ms" for k, v in result.timings_ms.items())
        console.print(
            f"[dim]prompt {result.prompt_tokens} tokens ({result.cached_tokens} cached), "
            f"decoded {result.decode_tokens}; {stages}[/]"
        )
