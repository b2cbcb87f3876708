"""What the user is told when a crew run ends: one message, also kept in the result."""

from __future__ import annotations

from typing import Any


def outcome_text(summary: dict[str, Any]) -> str:
    """The run's status, its files, what was applied or left out, and its transcript."""
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
    return text + f" Transcript: {summary['run_dir']}"


def failure(message: str) -> dict[str, Any]:
    """The result of a run that did not start or did not finish."""
    return {
        "status": "failed",
        "reason": message,
        "message": message,
        "applied": False,
        "files": [],
    }
