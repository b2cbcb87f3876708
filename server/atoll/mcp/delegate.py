"""The MCP ``delegate`` tool: the crew works on its staged copy and the answer is a diff.

Nothing is applied: the caller (an agent in Continue, Zed, ...) gets the unified diff as
text and shows it to its user, who applies it or not. The crew's commands run in its
sandbox like every crew run's; the run is recorded and resumable with ``atoll run --resume``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from atoll.config import AtollConfig

# A diff past this is cut in the answer; the full one is in the run's folder.
MAX_DIFF_CHARS = 200_000

Report = Callable[[str], None]


def run_crew(
    root: Path,
    config: AtollConfig,
    task: str,
    *,
    index: Any = None,
    report: Report | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run the crew on ``task`` (blocking) and return its result with the diff as text."""
    from atoll.agents import CrewError, CrewRun, EndpointError
    from atoll.agents.agent import describe_event
    from atoll.agents.settings import ModelPool, crew_settings

    if not task.strip():
        return {"status": "failed", "reason": "the task is empty", "diff": ""}
    settings = crew_settings(config, root)
    pool = ModelPool(config)
    try:
        pool.check(settings.roles)
    except EndpointError as exc:
        return {"status": "failed", "reason": f"the crew cannot start: {exc}", "diff": ""}
    budget = settings.budget(cancel)

    def on_event(event: dict[str, Any]) -> None:
        if report is not None and event["kind"] in ("role", "step"):
            report(describe_event(event))

    try:
        crew = CrewRun.start(
            root, task.strip(), model_for=pool, settings=settings, index=index,
            on_event=on_event, budget=budget,
        )  # fmt: skip
        result = crew.run()
    except (CrewError, EndpointError) as exc:
        return {"status": "failed", "reason": str(exc), "diff": ""}
    diff = result.diff.unified()
    summary = result.to_json()
    summary["diff"] = diff[:MAX_DIFF_CHARS]
    summary["diff_truncated"] = len(diff) > MAX_DIFF_CHARS
    summary["diff_file"] = str(result.run_dir / "result.diff")
    summary["applied"] = False
    return summary


def as_text(summary: dict[str, Any]) -> str:
    """The result for an agent to read: status, what changed, and the diff to review."""
    head = f"status: {summary['status']}"
    if summary.get("reason"):
        head += f" ({summary['reason']})"
    lines = [head]
    if summary.get("summary"):
        lines.append(f"summary: {summary['summary']}")
    files = [f"{f['kind']} {f['path']}" for f in summary.get("files", [])]
    lines.append(f"files: {', '.join(files) or 'no changes'}")
    lines.append("nothing was applied: review the diff and apply it yourself (e.g. `git apply`)")
    if summary.get("diff_truncated"):
        lines.append(f"the diff is cut here; the whole one is in {summary['diff_file']}")
    if summary.get("run_id"):
        lines.append(f"run: {summary['run_id']} (`atoll run --resume {summary['run_id']}`)")
    return "\n".join(lines) + ("\n\n" + summary["diff"] if summary.get("diff") else "")
