"""``atoll.delegate``: hand a task to the AI crew, show its progress, offer its diff.

The crew works on a staged copy of the workspace in a worker thread
(:mod:`atoll.server.crew`). The editor sees work-done progress (role, step, files
touched) and can cancel it (the progress's cancel button or ``$/cancelRequest``). At
the end the server sends ONE labelled ``workspace/applyEdit``; files changed meanwhile
are reported, not clobbered, and a declined edit changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.crew.edit import current_texts, plan_edit
from atoll.server.crew.report import failure, outcome_text
from atoll.server.crew.service import (
    CrewError,
    CrewService,
    sandbox_status,
    task_from,
    with_run_mode,
)
from atoll.server.documents import open_buffers, open_texts
from atoll.server.lsp import capabilities, positions
from atoll.server.lsp.conversions import ERROR, INFO, WARNING, show_message
from atoll.server.lsp.per_server import PerServer
from atoll.server.lsp.progress import WorkDone
from atoll.server.protocol import request_cancel_event

if TYPE_CHECKING:
    from atoll.agents import CrewResult

log = logging.getLogger(__name__)

DELEGATE_COMMAND = "atoll.delegate"
CANCEL_COMMAND = "atoll.delegate.cancel"
CREW: PerServer[CrewService] = PerServer(lambda server: CrewService())


async def delegate(ls: AtollServer, *args: Any) -> dict[str, Any]:
    """The body of ``atoll.delegate``; returns a JSON summary (also the request's result)."""
    service = CREW(ls)
    try:
        task, config = task_from(args), with_run_mode(ls.config, args)
        prepared = await service.prepare(config, ls.root, trusted=ls.workspace_trusted)
    except CrewError as exc:
        return _fail(ls, str(exc))
    cancel = request_cancel_event() or threading.Event()
    progress = WorkDone(ls, name="crew", cancel=cancel)
    await progress.begin("AI crew", task.splitlines()[0][:80])
    try:
        result = await service.run(
            prepared, task, buffers=open_buffers(ls), index=ls.index, cancel=cancel,
            report=progress.report,
        )  # fmt: skip
    except asyncio.CancelledError:
        progress.end("cancelled")
        raise
    except CrewError as exc:
        progress.end("failed")
        return _fail(ls, str(exc))
    progress.end(f"{result.status}: {result.diff.stat()}")
    summary = result.to_json()
    summary.update(applied=False, conflicts=[], unsupported=[], refused=[])
    if result.status != "cancelled" and result.diff:
        summary.update(await _offer_edit(ls, result, task))
    service.last = {k: summary[k] for k in ("run_id", "status", "reason", "applied")}
    summary["message"] = outcome_text(summary)  # clients may show it instead of the message
    show_message(ls, summary["message"], INFO if summary["status"] == "done" else WARNING)
    return summary


def cancel(ls: AtollServer, *args: Any) -> dict[str, Any]:
    """``atoll.delegate.cancel``: stop the running crew at its next step."""
    return CREW(ls).cancel()


async def _offer_edit(ls: AtollServer, result: CrewResult, task: str) -> dict[str, Any]:
    """Send the diff as one labelled ``workspace/applyEdit``; what the editor answered."""
    assert ls.root is not None
    versions = {
        uri: doc.version
        for uri, doc in ls.workspace.text_documents.items()
        if doc.version is not None
    }
    encoding = positions.encoding_of(ls)
    planned = plan_edit(
        result.diff,
        ls.root,
        current_texts(open_texts(ls, strict=True)),
        versions,
        resource_operations=capabilities.resource_operations(ls.client_capabilities),
        units=lambda text: positions.units(text, encoding),
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


def _fail(ls: AtollServer, message: str) -> dict[str, Any]:
    log.warning("%s", message)
    show_message(ls, message, ERROR)
    return failure(message)


def register(server: AtollServer) -> None:
    service = CREW(server)
    server.status_providers["crew"] = service.status
    server.status_providers["sandbox"] = lambda: sandbox_status(server.config)
    server.status_providers["trust"] = lambda: {"trusted": server.workspace_trusted}
    server.command(DELEGATE_COMMAND)(delegate)
    server.command(CANCEL_COMMAND)(cancel)
