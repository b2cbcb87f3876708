"""One crew run at a time, without LSP: the checks before it, the run, its state.

The run works on a staged copy of the workspace in a worker thread; the caller turns
:class:`CrewError` into one message and the progress lines into a progress bar.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atoll.config import AtollConfig
from atoll.config.schema import RUN_MODES

if TYPE_CHECKING:
    from atoll.agents import CrewResult
    from atoll.agents.crew import CrewSettings
    from atoll.agents.settings import ModelPool

UNTRUSTED = (
    "the AI crew is off in this folder because your editor does not trust it; trust the "
    "folder (VS Code: Workspaces: Manage Workspace Trust) to delegate tasks"
)


class CrewError(Exception):
    """Why a run did not start or did not finish, in words for the user."""


@dataclass
class ActiveRun:
    run_id: str
    cancel: threading.Event
    role: str = ""
    step: int = 0
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prepared:
    """A run that passed its checks: where, with which models and settings."""

    root: Path
    pool: ModelPool
    settings: CrewSettings


def task_from(args: tuple[Any, ...]) -> str:
    """``[{"task": str, "uri"?: str, "mode"?: str}]`` or ``["task text"]``; anything
    else is an error."""
    first = args[0] if args else None
    if isinstance(first, str):
        task = first
    elif isinstance(first, dict) and isinstance(first.get("task"), str):
        task = first["task"]
    else:
        raise CrewError('atoll.delegate needs a task: arguments [{"task": "..."}]')
    if not task.strip():
        raise CrewError("atoll.delegate needs a non-empty task")
    return task.strip()


def with_run_mode(config: AtollConfig, args: tuple[Any, ...]) -> AtollConfig:
    """The settings of this run: ``agents.mode`` replaced by the arguments' ``mode``
    (``crew``, ``solo`` or ``auto``) when they name one."""
    first = args[0] if args else None
    mode = first.get("mode") if isinstance(first, dict) else None
    if mode is None:
        return config
    if mode not in RUN_MODES:
        raise CrewError(f'atoll.delegate\'s "mode" is crew, solo or auto, not {mode!r}')
    return replace(config, agents=replace(config.agents, mode=mode))


def sandbox_status(config: AtollConfig) -> dict[str, Any]:
    """How the crew's commands run here (the client's status bar and ``atoll doctor``)."""
    from atoll.agents.sandbox import SandboxPolicy, probe

    return probe(SandboxPolicy.from_config(config.agents.sandbox)).to_json()


class CrewService:
    """At most one crew run per server; its state for ``atoll.status``."""

    def __init__(self) -> None:
        self.active: ActiveRun | None = None
        self.last: dict[str, Any] | None = None
        # Kept between runs while the settings stay the same: an in-process model is
        # loaded once, not per task.
        self._pool: Any = None
        self._pool_key: Any = None

    def pool(self, config: AtollConfig) -> ModelPool:
        from atoll.agents.settings import ModelPool

        key = (config.agents, config.models)
        replay = config.agents.endpoint.base_url.startswith("scripted:")  # fresh each run
        if self._pool is None or key != self._pool_key or replay:
            self._pool, self._pool_key = ModelPool(config), key
        pool: ModelPool = self._pool
        return pool

    def status(self) -> dict[str, Any]:
        run = self.active
        return {
            "running": run is not None,
            "run_id": run.run_id if run else None,
            "role": run.role if run else None,
            "step": run.step if run else None,
            "files": list(run.files) if run else [],
            "last": self.last,
        }

    async def prepare(self, config: AtollConfig, root: Path | None, *, trusted: bool) -> Prepared:
        """Check that a run can start here and now (its models answer, none is running)."""
        from atoll.agents.settings import crew_settings

        if root is None:
            raise CrewError("the AI crew needs a workspace folder; open a folder first")
        if not trusted:
            raise CrewError(UNTRUSTED)
        if self.active is not None:
            raise CrewError(
                f"the AI crew is already running ({self.active.run_id}); cancel it first"
            )
        pool = self.pool(config)
        settings = crew_settings(config, root)
        try:
            await asyncio.to_thread(pool.check, settings.roles)
        except Exception as exc:  # an endpoint that does not answer, a missing model file
            raise CrewError(f"the AI crew cannot start: {exc}") from exc
        return Prepared(root, pool, settings)

    async def run(
        self,
        prepared: Prepared,
        task: str,
        *,
        buffers: Mapping[Path, str],
        index: Any,
        cancel: threading.Event,
        report: Callable[[str], None],
    ) -> CrewResult:
        """Stage and run; ``report`` gets a line per role and step (from the worker)."""
        from atoll.agents import CrewRun
        from atoll.agents.agent import describe_event

        settings = prepared.settings
        budget = settings.budget(cancel)
        active = ActiveRun("", cancel)

        def on_event(event: dict[str, Any]) -> None:
            if event["kind"] in ("role", "step"):
                active.role = event["role"]
                active.step = event.get("step", 0)
                active.files = tuple(event.get("files") or ())
                report(describe_event(event))

        self.active = active
        try:
            run = await asyncio.to_thread(
                CrewRun.start, prepared.root, task, buffers=buffers, model_for=prepared.pool,
                settings=settings, index=index, on_event=on_event, budget=budget,
            )  # fmt: skip
            active.run_id = run.run_id
            return await asyncio.shield(asyncio.to_thread(run.run))
        except asyncio.CancelledError:
            cancel.set()
            raise
        except Exception as exc:
            raise CrewError(f"the AI crew failed: {exc}") from exc
        finally:
            self.active = None

    def cancel(self) -> dict[str, Any]:
        """Stop the running crew at its next step (``atoll.delegate.cancel``)."""
        if self.active is None:
            return {"cancelled": False}
        self.active.cancel.set()
        return {"cancelled": True, "run_id": self.active.run_id}
