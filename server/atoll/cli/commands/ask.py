"""``atoll ask "…"``: quick mode, one agent with read-only tools, one answer."""

from __future__ import annotations

import typer
from rich.markdown import Markdown
from rich.markup import escape

from atoll.cli.commands._crew_cli import ProgressView, open_index, setup
from atoll.cli.common import console, err_console, print_json
from atoll.cli.options import AsJson, Endpoint, Sets, UseIndex, Workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: str = typer.Argument(..., help="A question about the code."),
        endpoint: Endpoint = "",
        use_index: UseIndex = True,
        workspace: Workspace = None,
        as_json: AsJson = False,
        sets: Sets = None,
    ) -> None:
        """Ask one agent a question about the workspace; it may read files, never change them."""
        from atoll.agents import ask as ask_agent
        from atoll.agents.settings import crew_settings

        if not question.strip():
            err_console.print("[bold red]error:[/] the question is empty")
            raise typer.Exit(2)
        root, config, pool = setup(workspace, sets, endpoint, ("ask",))
        settings = crew_settings(config, root)
        view = ProgressView(as_json)
        with view.live("thinking"):
            answer = ask_agent(
                question,
                root,
                pool("ask"),
                index=open_index(root, config, use_index),
                limits=settings.role_limits("ask"),
                protocol=settings.tool_protocol,
                on_event=None if as_json else view,
            )
        answered = answer.status == "done" and bool(answer.text.strip())
        if as_json:
            print_json(answer.to_json())
        elif answered:
            console.print(Markdown(answer.text))
        else:
            reason = answer.reason or "the model finished without writing one"
            err_console.print(f"[yellow]no answer[/] ({escape(reason)})", highlight=False)
        if not answered:
            raise typer.Exit(1)
