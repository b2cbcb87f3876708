"""Demo step: a ``TODO(atoll):`` comment → the code action → the crew at work → one edit.

The task is the seed project's smoke test for the whole agent workflow (create a file
with given content), one the demo model (SmolLM2-135M) can do. With no
endpoint configured the run is the solo agent on the in-process model, its answers held
to actions by a grammar; the step ends with the edit applied, and says what it takes
for real work.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from atoll.cli.demo.session import DemoSession

# The seed's smoke test for the agent workflow, as a TODO comment.
TODO = "# TODO(atoll): create a new file named test.txt with the content hello world\n"


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
        texts = [e.new_text for e in change.edits if isinstance(e, types.TextEdit)]
        shown = f": {texts[0][:80]!r}" if len(texts) == 1 else ""
        return f"edit {change.text_document.uri} ({len(change.edits)} ranges){shown}"
    if isinstance(change, types.CreateFile):
        return f"create {change.uri}"
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
    # Small limits: the demo model is tiny and the task is small.
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"atoll": {"agents": {"max_steps": 4, "max_tokens": 128}}}
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
    _conclude(session, edits, result)


def _conclude(
    session: DemoSession, edits: list[types.ApplyWorkspaceEditParams], result: dict[str, Any]
) -> None:
    """Show the edit the editor applied, and say plainly what the demo model can do."""
    console = session.console
    if not edits:
        console.print(
            "[yellow]no edit this time:[/] the transcript in the run folder shows every "
            "step. Real work needs a real model: point agents.endpoint at vLLM "
            "(docs/models.md)."
        )
        return
    changes = edits[0].edit.document_changes or []
    session.show_json(f"workspace/applyEdit — {edits[0].label}", [_describe(c) for c in changes])
    if result.get("applied"):
        files = ", ".join(f["path"] for f in result.get("files") or [])
        console.print(
            f"[green]applied:[/] {files}, written by the demo model (SmolLM2-135M: the solo "
            "agent, its answers held to actions by a grammar). A task this small is within "
            "its reach; real work needs a real model: point agents.endpoint at vLLM "
            "(docs/models.md)."
        )
