"""``atoll doctor``: checks that tell a user what works and, when not, how to fix it.

Importing this package registers every check, in the order the report shows them.
"""

from atoll.doctor import editor, endpoints, index_state, local_models, sandbox, vectors
from atoll.doctor.checks import CHECKS, CheckResult, DoctorContext, Status, run_checks

# The report reads top-down: this machine, then the servers, then the workspace.
_ORDER = ["checks", "local_models", "sandbox", "endpoints", "vectors", "index_state", "editor"]
CHECKS.sort(key=lambda fn: _ORDER.index(fn.__module__.rsplit(".", 1)[-1]))

__all__ = [
    "CHECKS",
    "CheckResult",
    "DoctorContext",
    "Status",
    "editor",
    "endpoints",
    "index_state",
    "local_models",
    "run_checks",
    "sandbox",
    "vectors",
]
