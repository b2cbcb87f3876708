"""``atoll doctor``: what works, what does not, and how to fix it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from atoll.cli.common import JSON_OPTION, SET_OPTION, console, find_workspace, load, print_json

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        workspace: Path = typer.Option(None, "--workspace", "-w", help="Workspace folder."),
        as_json: bool = JSON_OPTION,
        sets: list[str] = SET_OPTION,
    ) -> None:
        """Check configuration, models, servers and the index; exit 1 if something required is broken."""
        from atoll.doctor import run_checks
        from atoll.doctor.checks import DoctorContext

        root = find_workspace(workspace)
        results = run_checks(DoctorContext(root, load(root, sets)))
        broken = [r for r in results if r.status == "fail" and r.required]
        if as_json:
            print_json({"ok": not broken, "workspace": root, "checks": results})
        else:
            table = Table("check", "status", "detail", "fix", title=f"atoll doctor — {root}")
            for r in results:
                table.add_row(
                    escape(r.name),
                    f"[{_STYLE[r.status.value]}]{r.status.value}[/]",
                    escape(r.detail),
                    escape(r.fix),
                )
            console.print(table)
            console.print("[bold red]broken[/]" if broken else "[green]all required checks pass[/]")
        if broken:
            raise typer.Exit(1)
