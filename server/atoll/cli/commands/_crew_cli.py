"""What ``atoll run``, ``atoll ask`` and ``atoll chat`` share: config, index, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.syntax import Syntax

from atoll.cli.common import choose_workspace, console, err_console, fail, load

if TYPE_CHECKING:
    from atoll.agents.settings import ModelPool
    from atoll.config import AtollConfig
    from atoll.indexing import WorkspaceIndex


def setup(
    workspace: Path | None,
    sets: list[str] | None,
    endpoint: str,
    roles: tuple[str, ...] | None = None,
    mode: str = "",
) -> tuple[Path, AtollConfig, ModelPool]:
    """The workspace, its config and a checked model pool: fails at once (exit 2) when a
    role's endpoint does not answer or no local model exists, before any work starts."""
    from atoll.agents import EndpointError
    from atoll.agents.settings import ModelPool, crew_roles
    from atoll.config.models import ModelNotFoundError, resolve_gguf

    root = choose_workspace(workspace)
    sets = list(sets or [])
    if endpoint:
        sets = [*sets, f"agents.endpoint.base_url={endpoint}"]
    if mode:
        if mode not in ("auto", "crew", "solo"):
            fail(f"--mode is crew, solo or auto, not {mode!r}", 2)
        sets = [*sets, f"agents.mode={mode}"]
    config = load(root, sets).config
    pool = ModelPool(config)
    wanted = roles or crew_roles(config)
    try:
        pool.check(wanted)
        urls = {pool.endpoint_for(role)[0] for role in wanted}
        if "" in urls:  # some role runs in-process: its model file must exist now
            resolve_gguf(config)
    except (EndpointError, ModelNotFoundError) as exc:
        fail(f"{exc}\n(the crew needs a model: --endpoint URL or agents.endpoint.base_url for a "
             "vLLM / llama.cpp server, or models.gguf for one in-process)", 2)  # fmt: skip
    where = ", ".join(sorted(url or "in-process llama.cpp" for url in urls))
    err_console.print(f"[dim]model: {escape(where)}[/]", highlight=False)
    return root, config, pool


def open_index(root: Path, config: AtollConfig, enabled: bool) -> WorkspaceIndex | None:
    """The workspace index when one exists (``atoll index`` builds it); ``None`` otherwise."""
    if not enabled or not (root / config.indexing.index_dir).exists():
        return None
    try:
        from atoll.indexing import WorkspaceIndex

        return WorkspaceIndex.open(root, config, write=False)
    except Exception as exc:  # the crew works without it, and says so to the model
        err_console.print(f"[yellow]index unavailable:[/] {escape(str(exc))}")
        return None


class ProgressView:
    """Crew events as a live status line (humans) or JSON lines (``--json``)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._status: Any = None

    def __call__(self, event: dict[str, Any]) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps({"event": event["kind"], **event}, default=str) + "\n")
            sys.stdout.flush()
            return
        if event["kind"] == "warning":
            err_console.print(f"[yellow]warning:[/] {escape(event['message'])}")
        elif event["kind"] == "role":
            console.print(f"[bold cyan]{event['role']}[/]")
        elif event["kind"] == "step":
            files = ", ".join(event.get("files") or [])
            line = f"  step {event['step']}: {event['tool']}" + (
                f"  [dim]{files}[/]" if files else ""
            )
            console.print(line, highlight=False)
            if self._status is not None:
                self._status.update(f"{event['role']} — {event['tool']}")

    @contextmanager
    def live(self, title: str) -> Iterator[None]:
        if self.as_json:
            yield
            return
        with console.status(title) as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None


MAX_DIFF_LINES = 400


def show_diff(text: str, full: Path | None = None, max_lines: int = MAX_DIFF_LINES) -> None:
    """The diff, cut after ``max_lines`` lines (or 200 characters a line) with where the
    whole one is: a run's result can be large."""
    if not text:
        return
    lines = text.splitlines()
    shown = "\n".join(line[:200] for line in lines[:max_lines])
    console.print(Syntax(shown, "diff", word_wrap=True))
    cut = len(lines) - max_lines
    if cut > 0 or any(len(line) > 200 for line in lines[:max_lines]):
        where = f"; the whole diff: {full}" if full is not None else ""
        console.print(f"[dim]... diff cut ({max(cut, 0)} more lines){escape(where)}[/]")
