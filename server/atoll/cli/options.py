"""The options most commands take, as parameter types, defined once.

``def cmd(workspace: Workspace = None, as_json: AsJson = False, sets: Sets = None)``
gives a command ``-w/--workspace``, ``--json`` and ``--set KEY=VALUE`` with the same
names and help everywhere; :func:`atoll.cli.common.workspace_config` turns the first and
the last into a folder and its settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

SET_HELP = "Override a setting, e.g. --set completion.max_tokens=32."
JSON_HELP = "Machine-readable output."
WORKSPACE_HELP = (
    "Workspace folder (default: the nearest folder above the current one holding "
    "atoll.toml or .git)."
)

Workspace = Annotated[Path | None, typer.Option("--workspace", "-w", help=WORKSPACE_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
Sets = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help=SET_HELP)]

# The agent commands' (run, chat, ask).
ENDPOINT_HELP = "OpenAI-compatible base URL for every role (vLLM, llama.cpp server)."
MODE_HELP = "crew (the roles in agents.roles), solo (one agent) or auto; default: agents.mode."
Endpoint = Annotated[str, typer.Option("--endpoint", help=ENDPOINT_HELP)]
UseIndex = Annotated[
    bool, typer.Option("--index/--no-index", help="Let the agents search the workspace index.")
]
Mode = Annotated[str, typer.Option("--mode", help=MODE_HELP)]


def workspace_option(help: str) -> Any:
    """``-w/--workspace`` for a command whose folder means something else (its own help)."""
    return typer.Option(None, "--workspace", "-w", help=help)
