"""Entry point: build the typer app from the modules under :mod:`atoll.cli.commands`.

Command modules must import heavy libraries (torch, llama.cpp, tree-sitter) inside
their functions, never at module level: every ``atoll`` invocation imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import PackageNotFoundError, version

import typer

from atoll.cli import commands


def atoll_version() -> str:
    try:
        return version("atoll")
    except PackageNotFoundError:
        return "0+unknown"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"atoll {atoll_version()}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="atoll",
        help="An offline AI coding crew: completion, code search and agents on your own machines.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """atoll: run `atoll COMMAND --help` for each command."""

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(app)
    return app


def main() -> None:
    build_app()()
