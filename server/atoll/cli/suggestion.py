"""Why ``atoll complete`` printed what it printed: one sentence per outcome.

A suggestion can be missing or short for different reasons, and each has its own fix:
the time limit cut it, the model server is down (nothing accepts connections), the server
is slow (it accepts connections but did not answer in time), or the model wrote nothing.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

from atoll.config import AtollConfig

BUDGET_KEY = "completion.time_budget_ms"


def accepts_connections(base_url: str, timeout_s: float = 1.0) -> bool:
    """Whether something listens at the URL's host and port (a slow server still does)."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def unavailable_reason(config: AtollConfig, model: Any) -> str:
    """The model could not answer: down, slow, refused, or an in-process model not loaded."""
    base_url = str(getattr(model, "base_url", "") or "")
    error = str(getattr(model, "last_error", "") or "")
    if not base_url:
        return f"the in-process model could not answer ({error or 'not loaded'})"
    if "Timeout" in error:
        if accepts_connections(base_url):
            return (
                f"{base_url} is slow: it accepts connections but did not answer within the "
                f"time limit ({BUDGET_KEY} = {config.completion.time_budget_ms} ms); a busy "
                f"server or a model still loading. Try --set {BUDGET_KEY}=10000"
            )
        return (
            f"{base_url} did not answer and nothing accepts connections there now: is the "
            "server running, and is the host/port right? (`atoll doctor` checks it)"
        )
    if "Connection" in error:
        return (
            f"{base_url} is down: nothing accepts connections there ({error}); start the "
            "server or fix completion.endpoint.base_url (`atoll doctor` checks it)"
        )
    return f"{base_url} could not answer ({error or 'unavailable'})"


def outcome(config: AtollConfig, result: Any, model: Any) -> str:
    """A line about how the suggestion ended; empty when there is nothing to add."""
    budget = config.completion.time_budget_ms
    if result.finish == "deadline":
        what = (
            "cut the suggestion short" if result.text else "ran out before the model wrote anything"
        )
        return (
            f"the time limit ({BUDGET_KEY} = {budget} ms) {what}; "
            f"raise it with --set {BUDGET_KEY}={budget * 4}"
        )
    if result.text:
        return ""
    if result.source == "unavailable":
        return f"no suggestion: {unavailable_reason(config, model)}"
    if result.source == "cancelled":
        return "no suggestion: the request was cancelled"
    return "no suggestion: the model wrote nothing usable at this position"
