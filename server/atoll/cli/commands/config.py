"""``atoll config show``: the effective configuration and where each value came from."""

from __future__ import annotations

import typer
from rich.table import Table

from atoll.cli.common import console, print_json, workspace_config
from atoll.cli.options import AsJson, Sets, Workspace
from atoll.config import env_var_for, flatten, is_secret


def _shown(key: str, value: object) -> object:
    if is_secret(key) and value:
        return "***"
    return list(value) if isinstance(value, tuple) else value


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect atoll's configuration.", no_args_is_help=True)
    app.add_typer(group, name="config")

    @group.command("show")
    def show(
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Print every setting, its value and the layer it came from."""
        _, loaded = workspace_config(workspace, sets)
        values = flatten(loaded.config)
        if as_json:
            print_json(
                {
                    "settings": {
                        key: {
                            "value": _shown(key, value),
                            "source": loaded.origins[key],
                            "env": env_var_for(key),
                        }
                        for key, value in values.items()
                    },
                    "issues": [
                        {"source": i.source, "key": i.key, "message": i.message}
                        for i in loaded.issues
                    ],
                }
            )
            return
        table = Table("setting", "value", "from", title="atoll configuration")
        for key, value in values.items():
            origin = loaded.origins[key]
            style = "dim" if origin == "default" else "bold"
            table.add_row(key, repr(_shown(key, value)), origin, style=style)
        console.print(table)
