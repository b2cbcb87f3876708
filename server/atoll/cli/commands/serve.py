"""``atoll serve``: the language server, on stdio (default) or TCP for debugging."""

from __future__ import annotations

import typer

from atoll.cli.common import fail
from atoll.cli.options import Sets
from atoll.config import parse_assignments


def _parse_tcp(value: str, default_host: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = default_host, value
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--tcp expects HOST:PORT or PORT, got {value!r}")
    return host or default_host, int(port)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        tcp: str = typer.Option(
            None,
            "--tcp",
            metavar="[HOST:]PORT",
            help="Listen on TCP (loopback unless a host is given).",
        ),
        stdio: bool = typer.Option(True, "--stdio/--no-stdio", help="Talk LSP on stdin/stdout."),
        log_level: str = typer.Option(None, "--log-level", help="debug, info, warning or error."),
        sets: Sets = None,
    ) -> None:
        """Run the language server an editor talks to."""
        import faulthandler

        # A crash in native code (llama.cpp, tree-sitter, Qdrant) leaves every
        # thread's Python stack in the editor's log instead of a silent exit.
        faulthandler.enable()
        from atoll.server import create_server
        from atoll.server.logs import configure_stderr_logging

        try:
            cli = parse_assignments(sets or [])
        except ValueError as exc:
            fail(str(exc), 2)
        if log_level:
            cli["server.log_level"] = log_level
        server = create_server(cli_settings=cli)
        configure_stderr_logging(server.config.server.log_level)
        if tcp:
            try:
                host, port = _parse_tcp(tcp, server.config.server.tcp_host)
            except ValueError as exc:
                fail(str(exc), 2)
            server.start_tcp(host, port)
        else:
            server.start_io()
