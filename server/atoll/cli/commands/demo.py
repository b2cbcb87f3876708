"""``atoll demo``: the main job on the embedded defaults, narrated."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import typer

from atoll.cli.common import console, fail
from atoll.cli.options import workspace_option

SAMPLE = Path(__file__).resolve().parents[4] / "samples" / "workspace"


async def _run(workspace: Path, client: str, server_args: list[str]) -> None:
    from atoll.cli.demo.clients import capabilities_for
    from atoll.cli.demo.session import DemoSession
    from atoll.cli.demo.steps import STEPS

    session = DemoSession(workspace, console, server_args=server_args)
    console.rule(f"[bold]atoll demo[/] — an editor ({client}) talks to `atoll serve`")
    await session.start(capabilities_for(client))
    try:
        for step in STEPS:
            console.rule(f"[bold]{(step.__doc__ or step.__name__).strip()}[/]", align="left")
            try:
                await step(session)
            except Exception as exc:  # one failed step must not hide the rest
                console.print(f"[red]step {step.__name__} failed:[/] {exc!r}")
                raise
    finally:
        await session.stop()
    console.rule("[green]done[/]")


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workspace: Path = workspace_option(
            "Workspace to use (default: a copy of the bundled sample)."
        ),
        client: str = typer.Option(
            "visual_studio_code",
            "--client",
            help="Client capabilities: visual_studio_code or neovim.",
        ),
    ) -> None:
        """Start `atoll serve` and drive it over LSP on a sample workspace, printing each exchange."""
        with tempfile.TemporaryDirectory(prefix="atoll-demo-") as tmp:
            if workspace is None:
                if not SAMPLE.is_dir():
                    fail(f"the sample workspace is missing at {SAMPLE}; pass --workspace PATH")
                workspace = Path(tmp) / "sample"
                shutil.copytree(SAMPLE, workspace)
            try:
                asyncio.run(_run(workspace.resolve(), client, []))
            except Exception as exc:
                fail(f"demo failed: {exc}")
