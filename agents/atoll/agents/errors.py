"""Why a role or a run stops. Stop conditions are exceptions, caught at one place each.

``RoleFinished`` is the happy path (the model called its finish tool); the others end a
run early with whatever the staged workspace holds as a reviewable partial result.
"""

from __future__ import annotations

from typing import Any


class CrewError(Exception):
    """Base of everything the crew raises on purpose."""


class EndpointError(CrewError):
    """The model endpoint cannot be reached or keeps failing (raised before work starts
    when possible)."""


class ToolError(CrewError):
    """A tool call the model can correct: the message is sent back to it verbatim."""


class PathEscapeError(ToolError):
    """A path that resolves outside the staged workspace."""


class StopRun(CrewError):
    """The run stops early; ``reason`` says why, in words for the user."""

    reason = "stopped"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.reason)


class LimitExceeded(StopRun):
    reason = "limit exceeded"


class MalformedOutput(StopRun):
    reason = "the model kept answering without a valid action"


class Cancelled(StopRun):
    reason = "cancelled"


class RoleFinished(CrewError):
    """The model called its finish tool; ``result`` holds the tool's arguments."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("finished")
        self.result = result
