"""The server starts, syncs buffers both ways, logs, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartServer, status


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_initialize_advertises_incremental_sync_and_status(client: LanguageClient) -> None:
    caps = client.capabilities
    result = await status(client)
    assert result["version"]
    assert result["root"] is not None and result["root"].endswith("ws")
    assert result["documents"] == []
    assert caps is not None


async def test_incremental_and_full_sync_track_unsaved_buffer(
    client: LanguageClient, sample_workspace: Path
) -> None:
    path = sample_workspace / "inventory" / "report.py"
    uri = path.as_uri()
    text = path.read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    # Incremental: insert a line at the top, replace a word on line 3.
    edits = [
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="# edited\n"
        ),
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(3, 5), types.Position(3, 14)), text="stock"
        ),
    ]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri), edits
        )
    )
    lines = ("# edited\n" + text).splitlines(keepends=True)
    lines[3] = lines[3][:5] + "stock" + lines[3][14:]
    expected = "".join(lines)
    [doc] = (await status(client))["documents"]
    assert (doc["version"], doc["sha256"]) == (2, sha(expected))
    assert path.read_text() == text  # the disk is untouched

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=3, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
        )
    )
    [doc] = (await status(client))["documents"]
    assert (doc["version"], doc["sha256"]) == (3, sha("x = 1\n"))

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    assert (await status(client))["documents"] == []


async def test_invalid_editor_settings_are_reported_and_defaults_used(
    start_server: StartServer, sample_workspace: Path, client_name: str
) -> None:
    lsp = await start_server(
        sample_workspace,
        client=client_name,
        settings={"completion": {"maxTokens": "lots"}, "nope": 1},
    )
    result = await status(lsp)
    issues = " ".join(result["config_issues"])
    assert "completion.max_tokens" in issues and "expected integer" in issues
    assert "nope" in issues
    # Shown during initialize (the spec allows window/showMessage there).
    for _ in range(50):
        if any("invalid settings" in m.message for m in lsp.messages):
            break
        await asyncio.sleep(0.05)
    assert any("invalid settings" in m.message for m in lsp.messages)


async def test_settings_change_reloads_config(client: LanguageClient) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"atoll": {"completion": {"maxTokens": "x"}}})
    )
    for _ in range(50):
        if (await status(client))["config_issues"]:
            break
        await asyncio.sleep(0.05)
    assert any("completion.max_tokens" in i for i in (await status(client))["config_issues"])


async def test_settings_split_by_scope_are_taken_apart(
    start_server: StartServer, sample_workspace: Path
) -> None:
    """The VS Code client's payload: user settings on top, the workspace's apart, trust."""
    payload = {
        "completion": {"max_tokens": 16},
        "workspaceSettings": {"agents": {"endpoint": {"base_url": "http://evil:1/v1"}}},
        "workspaceTrusted": False,
    }
    lsp = await start_server(sample_workspace, settings=payload)
    seen = await status(lsp)
    # The split's own keys are not settings; the workspace's endpoint is refused, once.
    issues = seen["config_issues"]
    assert len(issues) == 1 and "agents.endpoint.base_url" in issues[0], issues
    assert not any("workspace_settings" in i or "workspace_trusted" in i for i in issues)
    assert seen["trust"] == {"trusted": False}
    lsp.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"workspaceSettings": {}, "workspaceTrusted": True}
        )
    )
    for _ in range(50):
        if (await status(lsp))["trust"]["trusted"]:
            break
        await asyncio.sleep(0.05)
    assert (await status(lsp))["trust"] == {"trusted": True}


async def test_logs_reach_the_client(client: LanguageClient) -> None:
    for _ in range(50):
        if any("atoll" in m.message and "serving" in m.message for m in client.log_messages):
            break
        await asyncio.sleep(0.05)
    assert any("serving" in m.message for m in client.log_messages)


@pytest.mark.parametrize("mode", ["exit", "parent"])
def test_process_exits_on_exit_or_when_parent_dies(tmp_path: Path, mode: str) -> None:
    """`exit` ends the process; so does the death of the editor (`processId`)."""
    script = tmp_path / "editor.py"
    script.write_text(PARENT_SCRIPT)
    editor = subprocess.Popen(
        [sys.executable, str(script), mode, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert editor.stdout is not None
    server_pid = int(editor.stdout.readline())
    if mode == "parent":
        editor.send_signal(signal.SIGKILL)
    editor.wait(timeout=30)
    for _ in range(100):
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return
        # Reap it if it is our grandchild-turned-zombie.
        try:
            if os.waitpid(server_pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            pass
        import time

        time.sleep(0.1)
    os.kill(server_pid, signal.SIGKILL)
    pytest.fail(f"server {server_pid} still alive after {mode}")


# A stand-in editor: starts the server, initializes with its own pid, then either
# shuts down properly or (for "parent") idles until the test kills it.
PARENT_SCRIPT = r"""
import json, os, subprocess, sys, time
mode, root = sys.argv[1], sys.argv[2]
proc = subprocess.Popen([sys.executable, "-m", "atoll.cli", "serve"], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
print(proc.pid, flush=True)
def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body); proc.stdin.flush()
def read():
    length = 0
    while (line := proc.stdout.readline().strip()):
        if line.lower().startswith(b"content-length"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))
send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"processId": os.getpid(), "rootUri": "file://" + root, "capabilities": {}}})
while "id" not in (msg := read()) or msg["id"] != 1:
    pass
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
if mode == "exit":
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    while "id" not in (msg := read()) or msg["id"] != 2:
        pass
    send({"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=20)
else:
    time.sleep(120)
"""
