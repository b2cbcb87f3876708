"""``atoll models``: which models atoll uses, whether they are on disk and sound."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from atoll.cli.common import console, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def models(
        paths: list[Path] = typer.Argument(
            None, help="GGUF files or model folders to verify (default: the configured ones)."
        ),
        workspace: Workspace = None,
        served: bool = typer.Option(
            False, "--served", help="Also verify the folders vLLM loads (on the GPU box)."
        ),
        dirs: list[Path] = typer.Option(
            [], "--dir", help="Another folder to look for models in (repeatable)."
        ),
        sha256: bool = typer.Option(
            False, "--sha256", help="Print each GGUF's SHA-256 (to compare across the air gap)."
        ),
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """List configured models and verify GGUF headers, quantisation, FIM and model folders."""
        from atoll.doctor.inventory import (
            configured_models,
            found_on_disk,
            inspect_path,
            search_folders,
            served_model_folders,
        )

        if paths:
            entries = [inspect_path(p, sha256=sha256) for p in paths]
        else:
            _, loaded = workspace_config(workspace, sets)
            config = loaded.config
            entries = configured_models(config, sha256=sha256)
            if served:
                entries += served_model_folders(config)
            known = {e.location for e in entries}
            # Found but unused models are information, never a failure.
            extra = found_on_disk([*search_folders(config), *dirs], known)
        broken = [e for e in entries if not e.ok]
        if not paths:
            entries += extra
        if as_json:
            print_json({"ok": not broken, "models": entries})
        else:
            table = Table(title="atoll models")
            table.add_column("used by")
            table.add_column("kind")
            table.add_column("where", overflow="fold")
            table.add_column("facts")
            for e in entries:
                facts = ", ".join(f"{k}: {v}" for k, v in e.facts.items())
                if e.demo:
                    facts = "demo-size model; " + facts
                if e.problems:
                    facts = (
                        "[bold red]"
                        + escape("; ".join(e.problems))
                        + "[/]"
                        + ("\n" + escape(facts) if facts else "")
                    )
                else:
                    facts = escape(facts)
                table.add_row(escape(e.use), e.kind, escape(e.location), facts)
            console.print(table)
        if broken:
            raise typer.Exit(1)
