"""Feature handlers are module-level functions: called here directly on a real server."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from atoll.server.features import (
    code_actions,
    definition,
    delegate,
    document_symbols,
    status,
    workspace_symbols,
)
from tests.server.loopback import started


def _action_params(uri: str, line: int) -> types.CodeActionParams:
    where = types.Range(types.Position(line, 0), types.Position(line, 0))
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=where,
        context=types.CodeActionContext(diagnostics=[]),
    )


async def test_code_action_on_a_todo_read_from_disk(tmp_path: Path) -> None:
    client = await started(tmp_path)
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text("x = 1\n# TODO(atoll): add a docstring\n", encoding="utf-8")
    actions = code_actions.code_actions(client.server, _action_params(source.as_uri(), 1))
    assert actions is not None and len(actions) == 1
    [action] = actions
    assert action.kind == types.CodeActionKind.RefactorRewrite
    assert action.command is not None and action.command.command == delegate.DELEGATE_COMMAND
    task = action.command.arguments[0]["task"]  # type: ignore[index]
    assert task.startswith("add a docstring") and "pkg/mod.py:2" in task
    quick_only = _action_params(source.as_uri(), 1)
    quick_only.context.only = [types.CodeActionKind.QuickFix]
    assert code_actions.code_actions(client.server, quick_only) is None


async def test_status_names_the_root_and_each_section(tmp_path: Path) -> None:
    client = await started(tmp_path)
    snapshot = status.status(client.server)
    assert snapshot["root"] == str(tmp_path)
    assert {"crew", "trust", "completion"} <= set(snapshot)
    assert snapshot["crew"]["running"] is False


async def test_delegate_refuses_an_untrusted_folder_with_one_message(tmp_path: Path) -> None:
    client = await started(tmp_path)
    client.server.workspace_trusted = False
    result = await delegate.delegate(client.server, {"task": "do it"})
    assert result["status"] == "failed" and "does not trust" in result["reason"]
    assert client.messages() == [result["message"]]
    assert delegate.cancel(client.server) == {"cancelled": False}
    empty = await delegate.delegate(client.server)
    assert "needs a task" in empty["reason"]


async def test_document_symbols_without_an_index_come_from_the_disk_text(tmp_path: Path) -> None:
    client = await started(tmp_path)
    client.server.index_opened.set()  # no index will open: the handler parses the file
    source = tmp_path / "shapes.py"
    source.write_text("class Square:\n    def area(self):\n        return 1\n", encoding="utf-8")
    params = types.DocumentSymbolParams(types.TextDocumentIdentifier(source.as_uri()))
    [square] = await document_symbols.document_symbol(client.server, params)
    assert isinstance(square, types.DocumentSymbol) and square.name == "Square"
    assert [child.name for child in square.children or []] == ["area"]
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01class X: pass\n")
    params = types.DocumentSymbolParams(types.TextDocumentIdentifier(binary.as_uri()))
    assert await document_symbols.document_symbol(client.server, params) == []


async def test_symbol_requests_without_an_index_answer_empty(tmp_path: Path) -> None:
    client = await started(tmp_path)
    client.server.index_opened.set()
    query = types.WorkspaceSymbolParams(query="Square")
    assert await workspace_symbols.workspace_symbol(client.server, query) == []
    where = types.DefinitionParams(
        types.TextDocumentIdentifier((tmp_path / "a.py").as_uri()), types.Position(0, 0)
    )
    assert await definition.definition(client.server, where) is None
