"""``atoll serve-config``: the GPU box's serving recipes, printed from atoll's own config.

The laptops' settings (which endpoint, which model) and the GPU box's launch lines
come from one file, so they cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.common import choose_workspace, console, err_console, fail, load, print_json
from atoll.cli.options import AsJson, Sets, workspace_option


def register(app: typer.Typer) -> None:
    @app.command("serve-config")
    def serve_config(
        target: str = typer.Argument(
            ..., metavar="vllm|qdrant|systemd|compose|all", help="What to print."
        ),
        workspace: Path = workspace_option(
            "Folder whose atoll.toml describes the set-up (read as your own file)."
        ),
        write: Path = typer.Option(
            None, "--write", metavar="DIR", help="Write the files under DIR instead of printing."
        ),
        check: Path = typer.Option(
            None,
            "--check",
            metavar="DIR",
            help="Exit 1 if the files under DIR differ from what the config generates.",
        ),
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Print vLLM command lines, Qdrant's config, systemd units or a compose file."""
        from atoll.deploy.plan import DeployError
        from atoll.deploy.render import render

        root = choose_workspace(workspace)
        # The set-up description is the file you name here, read like your own config (it
        # names executables and endpoints, which a workspace's atoll.toml may not).
        loaded = load(None, sets, user_file=root / "atoll.toml")
        try:
            files = render(loaded.config, target, source=f"{root.name}/atoll.toml")
        except DeployError as exc:
            fail(str(exc), 2)
        if check is not None:
            drifted = [
                rel
                for rel, text in files.items()
                if not (check / rel).is_file() or (check / rel).read_text() != text
            ]
            for rel in drifted:
                err_console.print(f"[yellow]differs:[/] {check / rel}", highlight=False)
            if drifted:
                fail(
                    f"{len(drifted)} file(s) under {check} differ from the config: regenerate with --write"
                )
            console.print(f"{check}: {len(files)} file(s) match the config", highlight=False)
            return
        if write is not None:
            for rel, text in files.items():
                path = write / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                if rel.endswith(".sh"):
                    path.chmod(0o755)
                console.print(f"wrote {path}", highlight=False)
            return
        if as_json:
            print_json(files)
            return
        for rel, text in files.items():
            if len(files) > 1:
                typer.echo(f"==> {rel} <==")
            typer.echo(text)
