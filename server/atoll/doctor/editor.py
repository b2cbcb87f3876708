"""What the editor side depends on that this machine can see: the executable an editor
starts and where the language server would listen."""

from __future__ import annotations

import ipaddress
import shutil
import sys
from pathlib import Path

from atoll.doctor.checks import CheckResult, DoctorContext, Status, check


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@check
def server_executable(ctx: DoctorContext) -> list[CheckResult]:
    """Editors start ``atoll serve`` by name unless told a path."""
    on_path = shutil.which("atoll")
    beside = Path(sys.executable).with_name("atoll")
    if on_path:
        return [CheckResult("editor: atoll executable", Status.OK, on_path)]
    if beside.exists():
        return [
            CheckResult(
                "editor: atoll executable",
                Status.WARN,
                f"`atoll` is not on PATH; it is at {beside}",
                f'point the editor at it (VS Code: "atoll.serverCommand": ["{beside}", "serve"], '
                f'or "atoll.python": "{sys.executable}") or add its folder to PATH',
                required=False,
            )
        ]
    return [
        CheckResult(
            "editor: atoll executable",
            Status.WARN,
            "no `atoll` executable found",
            "pip install atoll (or `make setup`) into the Python the editor uses",
            required=False,
        )
    ]


@check
def lsp_transport(ctx: DoctorContext) -> list[CheckResult]:
    """The LSP server binds nothing by default; ``--tcp`` must stay on loopback."""
    host = ctx.loaded.config.server.tcp_host
    origin = ctx.loaded.origins.get("server.tcp_host", "default")
    if is_loopback(host):
        return [
            CheckResult(
                "editor: lsp transport",
                Status.OK,
                f"stdio; `atoll serve --tcp PORT` would listen on {host} only",
            )
        ]
    return [
        CheckResult(
            "editor: lsp transport",
            Status.WARN,
            f"server.tcp_host = {host} ({origin}): `atoll serve --tcp` would accept "
            "unauthenticated LSP connections from the network, which can read your code",
            "unset server.tcp_host (loopback) and use stdio or an SSH tunnel",
            required=False,
        )
    ]
