"""The demo's steps, in order. Each feature adds one step function to :data:`STEPS`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from atoll.cli.demo.session import DemoSession
from atoll.cli.demo.step_completion import completion
from atoll.cli.demo.step_delegate import delegate
from atoll.cli.demo.step_hover import hover
from atoll.cli.demo.step_index import index

Step = Callable[[DemoSession], Awaitable[None]]


async def capabilities(session: DemoSession) -> None:
    """What the server told the editor it can do."""
    assert session.result is not None
    caps = session.result.capabilities
    offered = {
        "text sync": str(caps.text_document_sync),
        "inline completion": caps.inline_completion_provider is not None,
        "completion": caps.completion_provider is not None,
        "hover": caps.hover_provider is not None,
        "document symbols": caps.document_symbol_provider is not None,
        "workspace symbols": caps.workspace_symbol_provider is not None,
        "definition": caps.definition_provider is not None,
        "code actions": caps.code_action_provider is not None,
        "commands": (
            caps.execute_command_provider.commands if caps.execute_command_provider else []
        ),
    }
    info = session.result.server_info
    session.show_json(f"{info.name} {info.version}" if info else "server", offered)


STEPS: list[Step] = [capabilities, index, completion, hover, delegate]
