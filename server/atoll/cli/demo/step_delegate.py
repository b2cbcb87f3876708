"""Demo step: a ``TODO(atoll):`` comment → the code action → the crew at work → one edit."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from atoll.cli.demo.session import DemoSession

TODO = "# TODO(atoll): make format_cents support negative amounts\n"


def _listen(session: DemoSession, method: str, handler: Any) -> None:
    """Register a client handler unless another step already did."""
    if method not in session.client.protocol.fm.features:
        session.client.feature(method)(handler)


def _read_code_actions_correctly(session: DemoSession) -> None:
    # lsprotocol's client reads any CodeAction with a `command` as a Command; editors do not.
    converter = session.client.protocol._converter

    def hook(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, hook)


def _describe(change: Any) -> str:
    if isinstance(change, types.TextDocumentEdit):
        return f"edit {change.text_document.uri} ({len(change.edits)} ranges)"
    if isinstance(change, types.RenameFile):
        return f"rename {change.old_uri} -> {change.new_uri}"
    return f"{type(change).__name__} {getattr(change, 'uri', '')}"


async def delegate(session: DemoSession) -> None:
    """Delegate to AI crew: a TODO comment becomes a task, the crew's diff one applyEdit"""
    console = session.console
    _read_code_actions_correctly(session)
    edits: list[types.ApplyWorkspaceEditParams] = []

    def on_apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    def on_create(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    def on_progress(params: types.ProgressParams) -> None:
        value = params.value if isinstance(params.value, dict) else {}
        message = value.get("message") or value.get("title") or ""
        if str(params.token).startswith("atoll-crew") and message:
            console.print(f"[dim]  $/progress[/] {message}", highlight=False)

    _listen(session, types.WORKSPACE_APPLY_EDIT, on_apply)
    _listen(session, types.WINDOW_WORK_DONE_PROGRESS_CREATE, on_create)
    _listen(session, types.PROGRESS, on_progress)
    # Small limits: the demo model is tiny, the point is the plumbing.
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={
                "atoll": {
                    "agents": {"max_steps": 3, "max_tokens": 128, "roles": ["architect", "coder"]}
                }
            }
        )
    )
    path = session.workspace / "inventory" / "report.py"
    uri = path.as_uri()
    text = TODO + path.read_text()
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    console.print(
        "[dim]→ textDocument/didOpen inventory/report.py with an unsaved TODO(atoll) line[/]"
    )
    session.show(
        "inventory/report.py (unsaved buffer, first lines)",
        "".join(text.splitlines(True)[:4]),
        lexer="python",
    )
    actions = await session.request(
        "textDocument/codeAction",
        session.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                types.Range(types.Position(0, 2), types.Position(0, 2)),
                types.CodeActionContext(diagnostics=[]),
            )
        ),
    )
    found = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.command]
    session.show_json("code actions", [a.title for a in found])
    if not found or found[0].command is None:
        console.print("[red]no Delegate to AI crew action offered[/]")
        return
    command = found[0].command
    answer = await session.request(
        "workspace/executeCommand atoll.delegate",
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        ),
        timeout=300,
    )
    result: dict[str, Any] = answer if isinstance(answer, dict) else {}
    await asyncio.sleep(0.1)
    session.show_json(
        "the crew's result",
        {
            k: result.get(k)
            for k in ("status", "reason", "files", "applied", "conflicts", "run_dir")
        },
    )
    if result.get("plan"):
        plan = "\n".join(str(result["plan"]).splitlines()[:12])
        session.show("the architect's plan (first lines)", plan[:1200], lexer="markdown")
    if edits:
        changes = edits[0].edit.document_changes or []
        session.show_json(
            f"workspace/applyEdit — {edits[0].label}",
            [_describe(c) for c in changes],
        )
    else:
        console.print(
            "[yellow]no edit this time:[/] the demo model rarely manages the tools; the "
            "transcript in the run folder shows every step. Point agents.endpoint at vLLM."
        )
