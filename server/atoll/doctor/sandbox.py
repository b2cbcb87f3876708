"""The crew's containment: the command sandbox and where runs are staged."""

from __future__ import annotations

from atoll.doctor.checks import CheckResult, DoctorContext, Status, check

UNSANDBOXED_FIX = (
    'set agents.sandbox.mode = "bwrap" in your user file once bubblewrap works here, '
    'or "off" to run no commands at all'
)


@check
def command_sandbox(ctx: DoctorContext) -> list[CheckResult]:
    from atoll.agents.sandbox import INSTALL_HINT, SandboxPolicy, probe

    policy = SandboxPolicy.from_config(ctx.loaded.config.agents.sandbox)
    status = probe(policy)
    results: list[CheckResult] = []
    if status.mode == "unsandboxed":
        results.append(
            CheckResult("sandbox", Status.WARN, status.message, UNSANDBOXED_FIX, required=False)
        )
    elif status.available:
        results.append(CheckResult("sandbox", Status.OK, status.message))
    elif status.mode == "off":
        results.append(CheckResult("sandbox", Status.OK, status.message + "; file tools work"))
    else:
        fix = INSTALL_HINT if "not installed" in status.message else status.message
        results.append(
            CheckResult(
                "sandbox",
                Status.WARN,
                f"the crew's command tools are off: {status.message}",
                fix,
                required=False,
            )
        )
    for note in status.warnings:
        fix = "fix the path in agents.sandbox.binds (your user file)"
        results.append(CheckResult("sandbox binds", Status.WARN, note, fix, required=False))
    return results


@check
def crew_runs(ctx: DoctorContext) -> list[CheckResult]:
    from atoll.agents.transcript import runs_dir

    where = runs_dir(ctx.workspace)
    return [
        CheckResult(
            "crew runs",
            Status.OK,
            f"staged copies and transcripts in {where} (outside the workspace); "
            "your files change only when you apply a result",
        )
    ]
