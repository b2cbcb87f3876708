"""``atoll run REQUIREMENT.md``: the crew (or the solo agent, ``--mode solo``) on a task."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from atoll.cli.commands._crew_cli import ProgressView, open_index, setup, show_diff
from atoll.cli.common import choose_workspace, console, fail
from atoll.cli.options import AsJson, Endpoint, Mode, Sets, UseIndex, Workspace

if TYPE_CHECKING:
    from atoll.agents import CrewResult, CrewRun


def _replay(root: Path, run_id: str, as_json: bool) -> None:
    from atoll.agents.transcript import Transcript, find_run, runs_dir

    run_dir = find_run(root, run_id, any_workspace=True)
    if run_dir is None or not (run_dir / "transcript.jsonl").is_file():
        fail(f"no run {run_id!r} under {runs_dir(root)}", 2)
    for event in Transcript(run_dir).events():
        if as_json:
            sys.stdout.write(json.dumps(event) + "\n")
            continue
        kind, role = event["kind"], event.get("role", "")
        if kind == "assistant":
            text = event["content"] or json.dumps(event["tool_calls"])
            console.print(f"[cyan]{role}[/] {escape(text[:400])}", highlight=False)
        elif kind == "tool_call":
            out = str(event.get("output", ""))[:200]
            console.print(f"  [dim]{event['name']} → {escape(out)}[/]", highlight=False)
        elif kind in ("run_start", "run_resume", "run_end", "role_start", "correction"):
            console.print(f"[bold]{kind}[/] {escape(role or event.get('status', ''))}")


def _read_task(requirement: Path) -> str:
    try:
        task = requirement.read_text(encoding="utf-8").strip()
    except OSError as exc:
        fail(f"cannot read {requirement}: {exc.strerror or exc}", 2)
    if not task:
        fail(f"{requirement} is empty", 2)
    return task


def _work(crew: CrewRun, view: ProgressView, cancel: threading.Event) -> CrewResult:
    """Run the crew in a thread so that Ctrl-C cancels it cleanly (the transcript stays)."""
    from atoll.agents import CrewResult

    results: list[Any] = []

    def work() -> None:
        try:
            results.append(crew.run())
        except Exception as exc:  # a bug, not a stop: report it, keep the transcript
            results.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    with view.live("the crew is working (Ctrl-C cancels)"):
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            cancel.set()
            worker.join()
    result = results[0]
    if isinstance(result, Exception):
        fail(f"the crew failed: {result!r}; transcript: {crew.run_dir}")
    assert isinstance(result, CrewResult)
    return result


def _apply(result: CrewResult, root: Path) -> dict[str, Any]:
    from atoll.agents.apply import apply_diff

    applied = apply_diff(result.diff, root)
    return {
        "applied": applied.files,
        "conflicts": applied.conflicts,
        "refused": [{"path": p, "reason": why} for p, why in applied.refused],
    }


def _print_result(result: CrewResult, summary: dict[str, Any]) -> None:
    if result.plan:
        console.rule("plan")
        console.print(escape(result.plan))
    console.rule("diff")
    show_diff(result.diff.unified(), result.run_dir / "result.diff")
    colour = "green" if result.status == "done" else "yellow"
    reason = f" ({escape(result.reason)})" if result.reason else ""
    console.print(f"[{colour}]{result.status}[/]{reason}: {escape(result.diff.stat())}")
    if "applied" in summary:
        console.print(f"applied: {', '.join(summary['applied']) or 'nothing'}")
        if summary["conflicts"]:
            console.print(
                f"[yellow]changed meanwhile, not applied:[/] {', '.join(summary['conflicts'])}"
            )
        for refused in summary["refused"]:
            console.print(
                f"[red]not applied, for safety:[/] {escape(refused['path'])}: "
                f"{escape(refused['reason'])}"
            )
    elif result.diff:
        console.print(
            f"review it in {result.run_dir / 'result.diff'}; apply with --apply or `git apply`"
        )
    console.print(
        f"transcript: {result.run_dir / 'transcript.jsonl'} (resume with --resume {result.run_id})"
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        requirement: Path = typer.Argument(
            None, help="A requirements document (markdown or text)."
        ),
        resume: str = typer.Option("", "--resume", help="Continue the run with this id."),
        replay: str = typer.Option("", "--replay", help="Print the transcript of a run and exit."),
        apply: bool = typer.Option(False, "--apply", help="Write the result into the workspace."),
        endpoint: Endpoint = "",
        mode: Mode = "",
        use_index: UseIndex = True,
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Hand a requirements document to the crew; show progress, the plan and the diff."""
        if replay:
            _replay(choose_workspace(workspace), replay, as_json)
            return
        if requirement is None and not resume:
            fail("give a REQUIREMENT file, or --resume RUN_ID", 2)
        task = _read_task(requirement) if requirement is not None else ""
        from atoll.agents import CrewError, CrewRun
        from atoll.agents.settings import crew_settings

        root, config, pool = setup(workspace, sets, endpoint, mode=mode)
        settings = crew_settings(config, root)
        view = ProgressView(as_json)
        cancel = threading.Event()
        kwargs: dict[str, Any] = dict(model_for=pool, settings=settings, index=open_index(root, config, use_index), on_event=view, budget=settings.budget(cancel))  # fmt: skip
        try:
            crew = (
                CrewRun.resume(root, resume, **kwargs)
                if resume
                else CrewRun.start(root, task, **kwargs)
            )
        except CrewError as exc:
            fail(str(exc), 2)
        if not as_json:
            console.print(f"run [bold]{crew.run_id}[/] in {root}")
        result = _work(crew, view, cancel)
        summary = result.to_json()
        if apply and result.diff and result.status != "cancelled":
            summary.update(_apply(result, root))
        if as_json:
            sys.stdout.write(json.dumps({"event": "result", **summary}, default=str) + "\n")
        else:
            _print_result(result, summary)
        if result.status != "done" or summary.get("refused"):
            raise typer.Exit(1)
