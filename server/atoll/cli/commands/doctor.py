"""``atoll doctor``: what works, what does not, and how to fix it."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from atoll.cli.common import console, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(
        workspace: Workspace = None,
        timeout: float = typer.Option(
            3.0, "--timeout", min=0.1, help="Seconds to wait for each server to connect."
        ),
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Check configuration, models, servers and the index; exit 1 if something required is broken."""
        from atoll.doctor import DoctorContext, run_checks

        root, loaded = workspace_config(workspace, sets)
        results = run_checks(DoctorContext(root, loaded, timeout_s=timeout))
        broken = [r for r in results if r.broken]
        if as_json:
            print_json({"ok": not broken, "workspace": root, "checks": results})
        else:
            table = Table("check", "status", "detail", title=f"atoll doctor — {root}")
            for r in results:
                detail = escape(r.detail)
                if r.fix and r.status.value in ("fail", "warn"):
                    detail += f"\n[cyan]fix:[/] {escape(r.fix)}"
                table.add_row(
                    escape(r.name), f"[{_STYLE[r.status.value]}]{r.status.value}[/]", detail
                )
            console.print(table)
            if broken:
                names = ", ".join(r.name for r in broken)
                console.print(f"[bold red]broken:[/] {escape(names)}")
            else:
                console.print("[green]all required checks pass[/]")
        if broken:
            raise typer.Exit(1)
