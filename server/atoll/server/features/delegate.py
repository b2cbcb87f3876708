"""``atoll.delegate``: hand a task to the AI crew, show its progress, offer its diff.

The crew works on a staged copy of the workspace in a worker thread. The editor sees
work-done progress (role, step, files touched) and can cancel it (the progress's cancel
button or ``$/cancelRequest``). At the end the server sends ONE labelled
``workspace/applyEdit``; files changed meanwhile are reported, not clobbered, and a
declined edit changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.documents import open_buffers
from atoll.server.features._crew_edit import plan_edit, utf16_units
from atoll.server.protocol import request_cancel_event

log = logging.getLogger(__name__)

DELEGATE_COMMAND = "atoll.delegate"
CANCEL_COMMAND = "atoll.delegate.cancel"
UNTRUSTED = (
    "the AI crew is off in this folder because your editor does not trust it; trust the "
    "folder (VS Code: Workspaces: Manage Workspace Trust) to delegate tasks"
)


@dataclass
class ActiveRun:
    run_id: str
    cancel: threading.Event
    role: str = ""
    step: int = 0
    files: tuple[str, ...] = ()


class CrewService:
    """At most one crew run per server; its state for ``atoll.status``."""

    def __init__(self) -> None:
        self.active: ActiveRun | None = None
        self.last: dict[str, Any] | None = None
        # Kept between runs while the settings stay the same: an in-process model is
        # loaded once, not per task.
        self._pool: Any = None
        self._pool_key: Any = None

    def pool(self, config: Any) -> Any:
        from atoll.agents.settings import ModelPool

        key = (config.agents, config.models)
        replay = config.agents.endpoint.base_url.startswith("scripted:")  # fresh each run
        if self._pool is None or key != self._pool_key or replay:
            self._pool, self._pool_key = ModelPool(config), key
        return self._pool

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


def _task_from(args: tuple[Any, ...]) -> tuple[str, str | None]:
    """``[{"task": str, "uri"?: str}]`` or ``["task text"]``; anything else is an error."""
    first = args[0] if args else None
    if isinstance(first, str):
        task, uri = first, None
    elif isinstance(first, dict) and isinstance(first.get("task"), str):
        task, uri = first["task"], first.get("uri")
    else:
        raise ValueError('atoll.delegate needs a task: arguments [{"task": "..."}]')
    if not task.strip():
        raise ValueError("atoll.delegate needs a non-empty task")
    return task.strip(), uri if isinstance(uri, str) else None


def _current_text(server: AtollServer) -> Any:
    def current(path: Path) -> str | None:
        doc = server.workspace.text_documents.get(path.as_uri())
        if doc is not None:
            return str(doc.source)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return current


def _units(server: AtollServer) -> Any:
    encoding = server.workspace.position_encoding
    if encoding == types.PositionEncodingKind.Utf8:
        return lambda text: len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len
    return utf16_units


class _Progress:
    """Work-done progress when the client supports it; a no-op otherwise."""

    def __init__(self, server: AtollServer, cancel: threading.Event) -> None:
        self.server = server
        self.cancel = cancel
        self.token: str | None = None
        caps = server.client_capabilities.window
        self.enabled = bool(caps and caps.work_done_progress)

    async def begin(self, title: str, message: str) -> None:
        if not self.enabled:
            return
        token = f"atoll-crew-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), timeout=10)
        except Exception as exc:
            log.info("no progress bar (%s)", exc)
            return
        self.token = token
        self.server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, message=message, cancellable=True)
        )
        future = self.server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: self.cancel.set() if f.cancelled() else None)

    def report(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, cancellable=True)
            )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )
            self.server.work_done_progress.tokens.pop(self.token, None)


def _describe(event: dict[str, Any]) -> str:
    files = event.get("files") or []
    touched = f" — files: {', '.join(files[:4])}{' …' if len(files) > 4 else ''}" if files else ""
    if event["kind"] == "role":
        return f"{event['role']}: starting{touched}"
    return f"{event['role']} — step {event['step']}: {event['tool']}{touched}"


async def run_delegate(ls: AtollServer, service: CrewService, *args: Any) -> dict[str, Any]:
    """The body of ``atoll.delegate``; returns a JSON summary (also the request's result)."""
    from atoll.agents import CrewRun, EndpointError, RunBudget
    from atoll.agents.settings import crew_settings

    try:
        task, _uri = _task_from(args)
    except ValueError as exc:
        return _fail(ls, str(exc))
    if ls.root is None:
        return _fail(ls, "the AI crew needs a workspace folder; open a folder first")
    if not ls.workspace_trusted:
        return _fail(ls, UNTRUSTED)
    if service.active is not None:
        return _fail(
            ls, f"the AI crew is already running ({service.active.run_id}); cancel it first"
        )
    root = ls.root
    config = ls.config
    pool = service.pool(config)
    settings = crew_settings(config, root)
    try:
        await asyncio.to_thread(pool.check, settings.roles)
    except EndpointError as exc:
        return _fail(ls, f"the AI crew cannot start: {exc}")
    except Exception as exc:  # a missing model file, a bad setting
        return _fail(ls, f"the AI crew cannot start: {exc}")

    cancel = request_cancel_event() or threading.Event()
    progress = _Progress(ls, cancel)
    await progress.begin("AI crew", task.splitlines()[0][:80])
    loop = asyncio.get_running_loop()
    buffers = open_buffers(ls)
    index = getattr(ls, "index", None)
    budget = RunBudget(
        deadline=time.monotonic() + settings.wall_clock_s,
        max_tokens=settings.max_run_tokens,
        cancel=cancel,
    )
    active = ActiveRun("", cancel)

    def on_event(event: dict[str, Any]) -> None:
        if event["kind"] in ("role", "step"):
            active.role = event["role"]
            active.step = event.get("step", 0)
            active.files = tuple(event.get("files") or ())
            loop.call_soon_threadsafe(progress.report, _describe(event))

    service.active = active
    try:
        run = await asyncio.to_thread(
            CrewRun.start, root, task, buffers=buffers, model_for=pool, settings=settings,
            index=index, on_event=on_event, budget=budget,
        )  # fmt: skip
        active.run_id = run.run_id
        result = await asyncio.shield(asyncio.to_thread(run.run))
    except asyncio.CancelledError:
        cancel.set()
        progress.end("cancelled")
        service.active = None
        raise
    except Exception as exc:
        progress.end("failed")
        service.active = None
        return _fail(ls, f"the AI crew failed: {exc}")
    service.active = None
    progress.end(f"{result.status}: {result.diff.stat()}")
    summary = result.to_json()
    summary.update(applied=False, conflicts=[], unsupported=[], refused=[])
    if result.status != "cancelled" and result.diff:
        summary.update(await _offer_edit(ls, result, task, root))
    service.last = {k: summary[k] for k in ("run_id", "status", "reason", "applied")}
    _tell(ls, summary)
    return summary


async def _offer_edit(ls: AtollServer, result: Any, task: str, root: Path) -> dict[str, Any]:
    caps = ls.client_capabilities.workspace
    edit_caps = caps.workspace_edit if caps else None
    resource_ops = bool(edit_caps and edit_caps.resource_operations)
    versions = {
        uri: doc.version
        for uri, doc in ls.workspace.text_documents.items()
        if doc.version is not None
    }
    planned = plan_edit(
        result.diff,
        root,
        _current_text(ls),
        versions,
        resource_operations=resource_ops,
        units=_units(ls),
    )
    out: dict[str, Any] = {
        "conflicts": planned.conflicts,
        "unsupported": planned.unsupported,
        "refused": [{"path": p, "reason": why} for p, why in planned.refused],
        "applied": False,
    }
    if not planned.files:
        return out
    partial = "" if result.status == "done" else f" ({result.status})"
    label = f"AI crew{partial}: {task.splitlines()[0][:60]}"
    try:
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=planned.edit, label=label)
        )
    except Exception as exc:
        out["apply_error"] = str(exc)
        return out
    out["applied"] = bool(answer.applied)
    if not answer.applied:
        out["failure_reason"] = answer.failure_reason or "declined"
    return out


def _tell(ls: AtollServer, summary: dict[str, Any]) -> None:
    files = ", ".join(f["path"] for f in summary["files"]) or "no changes"
    text = f"AI crew {summary['status']}"
    if summary["reason"]:
        text += f" ({summary['reason']})"
    text += f": {files}."
    if summary["files"]:
        text += " Applied." if summary["applied"] else " Not applied."
    if summary["conflicts"]:
        text += f" Changed meanwhile, left out: {', '.join(summary['conflicts'])}."
    if summary.get("refused"):
        text += " Not applied, for safety: " + "; ".join(r["reason"] for r in summary["refused"])
        text += "."
    if summary.get("left_out"):
        text += " Left out of the result: " + ", ".join(
            f"{r['path']} ({r['reason']})" for r in summary["left_out"]
        )
        text += "."
    if summary["unsupported"]:
        text += (
            f" Your editor cannot create/rename/delete files: {', '.join(summary['unsupported'])}."
        )
    text += f" Transcript: {summary['run_dir']}"
    kind = types.MessageType.Info if summary["status"] == "done" else types.MessageType.Warning
    summary["message"] = text  # clients may show the result instead of the notification
    ls.window_show_message(types.ShowMessageParams(type=kind, message=text))


def _fail(ls: AtollServer, message: str) -> dict[str, Any]:
    log.warning("%s", message)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))
    return {
        "status": "failed",
        "reason": message,
        "message": message,
        "applied": False,
        "files": [],
    }


def sandbox_status(ls: AtollServer) -> dict[str, Any]:
    """How the crew's commands run here (the client's status bar and ``atoll doctor``)."""
    from atoll.agents.sandbox import SandboxPolicy, probe

    return probe(SandboxPolicy.from_config(ls.config.agents.sandbox)).to_json()


def register(server: AtollServer) -> None:
    service = CrewService()
    server.status_providers["crew"] = service.status
    server.status_providers["sandbox"] = lambda: sandbox_status(server)
    server.status_providers["trust"] = lambda: {"trusted": server.workspace_trusted}

    @server.command(DELEGATE_COMMAND)
    async def delegate(ls: AtollServer, *args: Any) -> dict[str, Any]:
        return await run_delegate(ls, service, *args)

    @server.command(CANCEL_COMMAND)
    def cancel(ls: AtollServer, *args: Any) -> dict[str, Any]:
        if service.active is None:
            return {"cancelled": False}
        service.active.cancel.set()
        return {"cancelled": True, "run_id": service.active.run_id}
