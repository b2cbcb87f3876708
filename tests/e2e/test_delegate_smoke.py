"""The seed's smoke test through the code action, on the demo model, as an editor sees it.

No endpoint is configured: ``agents.mode`` auto runs the solo agent on the in-process
model (SmolLM2-135M), its answers held to actions by a grammar. The task comes from a
``TODO(atoll):`` comment; the editor gets one edit that creates the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.conftest import StartServer
from tests.e2e.test_delegate import QUIET, EditorSide, execute, read_code_actions_correctly

SMOKE = "create a new file named test.txt with the content hello world"


@pytest.mark.slow
async def test_the_smoke_test_passes_through_the_code_action_on_the_demo_model(
    start_server: StartServer, sample_workspace: Path
) -> None:
    lsp = await start_server(sample_workspace, env={**QUIET, "ATOLL_AGENTS_MAX_STEPS": "4"})
    read_code_actions_correctly(lsp)
    editor = EditorSide(lsp)
    path = sample_workspace / "inventory" / "report.py"
    text = f"# TODO(atoll): {SMOKE}\n" + path.read_text()
    uri = path.as_uri()
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    actions = await lsp.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            types.Range(types.Position(0, 4), types.Position(0, 4)),
            types.CodeActionContext(diagnostics=[]),
        )
    )
    [found] = [a for a in actions or [] if isinstance(a, types.CodeAction) and a.command]
    assert found.command is not None
    result = await execute(lsp, found.command)
    assert (result["status"], result["applied"]) == ("done", True), result
    assert [f["path"] for f in result["files"]] == ["test.txt"]
    [edit] = editor.edits
    changes = edit.edit.document_changes or []
    created = [c for c in changes if isinstance(c, types.CreateFile)]
    written = [c for c in changes if isinstance(c, types.TextDocumentEdit)]
    assert [c.uri for c in created] == [(sample_workspace / "test.txt").as_uri()]
    assert [e.new_text.strip() for c in written for e in c.edits] == ["hello world"]  # type: ignore[union-attr]
    assert not (sample_workspace / "test.txt").exists()  # the editor applies it, not the crew
