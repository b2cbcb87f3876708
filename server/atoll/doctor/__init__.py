"""``atoll doctor``: checks that tell a user what works and, when not, how to fix it."""

from atoll.doctor.checks import CHECKS, CheckResult, Status, run_checks

__all__ = ["CHECKS", "CheckResult", "Status", "run_checks"]
