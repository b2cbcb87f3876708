"""Inline completion over LSP with the real tiny model, in-process and behind a server.

VS Code's capability set gets ``textDocument/inlineCompletion``; Neovim's (no inline
completion) gets the same suggestion as a ``textDocument/completion`` snippet item.
Covers a real completion, type-ahead and cache hits, ``$/cancelRequest`` mid-decode,
the OpenAI-compatible backend against a real ``llama_cpp.server``, an outage of that
server (empty answers, one message, the editor keeps working, recovery), and a bad GGUF.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from atoll.cli.demo.step_completion import inline_params as demo_params
from tests.e2e.conftest import (
    StartServer,
    free_port,
    launch_llama_server,
    status,
    stop_process,
)

pytestmark = pytest.mark.slow
ENV = {"ATOLL_INDEXING_EMBEDDINGS": "0", "ATOLL_INDEXING_ENABLED": "0"}
# Generous: the tests share two cores with everything else. No timing asserts.
SETTINGS: dict[str, Any] = {"completion": {"time_budget_ms": 60000, "debounce_ms": 0}}
SOURCE = "def add(a, b):\n    return a\n"
CURSOR = types.Position(1, 12)  # after "return a"


async def wait_ready(lsp: LanguageClient, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = (await status(lsp)).get("completion", {})
        if current.get("ready") or current.get("error"):
            return current
        assert time.monotonic() < deadline, f"completion never got ready: {current}"
        await asyncio.sleep(0.1)


def open_doc(lsp: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return uri


def change_doc(lsp: LanguageClient, uri: str, text: str, version: int) -> None:
    lsp.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def inline_params(uri: str, position: types.Position) -> types.InlineCompletionParams:
    """An explicitly invoked request (the editor's shortcut)."""
    return demo_params(uri, position, types.InlineCompletionTriggerKind.Invoked)


async def suggest(lsp: LanguageClient, client: str, uri: str, position: types.Position) -> str:
    """The suggestion the editor would show, through the path its capabilities allow."""
    if client == "visual_studio_code":
        result = await lsp.text_document_inline_completion_async(inline_params(uri, position))
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        return items[0].insert_text if items else ""  # type: ignore[return-value]
    answer = await lsp.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=position,
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    items = answer.items if isinstance(answer, types.CompletionList) else answer or []
    if not items:
        return ""
    edit = items[0].text_edit
    assert isinstance(edit, types.TextEdit)
    word_len = edit.range.end.character - edit.range.start.character
    return edit.new_text.removesuffix("$0")[word_len:]


async def test_completion_from_the_tiny_model_then_typeahead_and_cache(
    start_server: StartServer, tmp_path: Path, client_name: str
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    lsp = await start_server(workspace, client=client_name, settings=SETTINGS, env=ENV)
    ready = await wait_ready(lsp)
    assert ready["ready"] and ready["backend"] == "llama_cpp", ready
    assert ready["demo"] is True and ready["template"] == "prefix-only"
    uri = open_doc(lsp, workspace / "calc.py", SOURCE)

    first = await suggest(lsp, client_name, uri, CURSOR)
    assert first.strip(), "the tiny model suggested nothing"
    assert "\n" not in first  # single line inside a line of code
    calls = (await status(lsp))["completion"]["stats"]["model_calls"]

    # Type-ahead: typing the suggestion's first character answers with the rest, no model.
    typed = first[0]
    at = SOURCE.index("\n", 15)
    change_doc(lsp, uri, SOURCE[:at] + typed + SOURCE[at:], 2)
    rest = await suggest(lsp, client_name, uri, types.Position(1, 13))
    assert rest == first[1:]

    # Cache: back to the original text, at the original cursor (a different suggestion
    # was shown in between, so this is the LRU cache, not type-ahead).
    change_doc(lsp, uri, SOURCE, 3)
    again = await suggest(lsp, client_name, uri, CURSOR)
    assert again == first
    stats = (await status(lsp))["completion"]["stats"]
    assert stats["model_calls"] == calls
    assert stats["typeahead_hits"] >= 1 and stats["cache_hits"] >= 1, stats

    # A position past the end of the line is clamped; past the document, empty.
    assert await suggest(lsp, client_name, uri, types.Position(1, 99)) == first
    assert await suggest(lsp, client_name, uri, types.Position(50, 0)) == ""


async def test_cancel_request_stops_the_decode(start_server: StartServer, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # No warming: "busy" below must mean this request's decode.
    completion = {
        "time_budget_ms": 60000,
        "max_tokens": 400,
        "multiline": "always",
        "warmup": False,
    }
    settings = {"completion": completion}
    lsp = await start_server(workspace, settings=settings, env=ENV)
    await wait_ready(lsp)
    # Long rows: the model keeps writing them, a decode of hundreds of tokens.
    rows = ["    " + " ".join(f"{i + 10 * r}," for i in range(10)) for r in range(5)]
    text = "numbers = [\n" + "\n".join(rows) + "\n"
    uri = open_doc(lsp, workspace / "numbers.py", text)
    msg_id = str(uuid.uuid4())
    pending = asyncio.wrap_future(
        lsp.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            inline_params(uri, types.Position(6, 0)),
            msg_id=msg_id,
        )
    )
    deadline = time.monotonic() + 60
    while not (await status(lsp))["completion"].get("busy"):
        assert time.monotonic() < deadline and not pending.done(), "the decode never started"
        await asyncio.sleep(0.02)
    lsp.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wait_for(pending, 30)
    for _ in range(200):
        stats = (await status(lsp))["completion"]["stats"]
        if stats["cancelled"]:
            break
        await asyncio.sleep(0.05)
    assert stats["cancelled"] == 1, stats
    assert stats["wasted_tokens"] < 400  # stopped well before max_tokens
    # The backend is ready for the next request.
    uri2 = open_doc(lsp, workspace / "calc.py", SOURCE)
    assert await suggest(lsp, "visual_studio_code", uri2, CURSOR)
    # A settings change that does not touch the model applies without reloading it.
    lsp.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"atoll": {"completion": {**settings["completion"], "max_tokens": 16}}}
        )
    )
    await asyncio.sleep(0.5)
    after = (await status(lsp))["completion"]
    assert after["ready"] and after["stats"]["requests"] == 0  # a fresh engine, same model
    assert await suggest(lsp, "visual_studio_code", uri2, CURSOR)


@contextlib.contextmanager
def llama_server(port: int) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` on the demo model at ``port``."""
    with tempfile.TemporaryDirectory() as tmp:
        process, base = launch_llama_server(
            Path(tmp) / "llama.log", "--model_alias", "demo", "--n_threads", "1", port=port,
            n_ctx=1024,
        )  # fmt: skip
        try:
            yield base
        finally:
            stop_process(process)


async def test_openai_backend_outage_then_recovery(
    start_server: StartServer, sample_workspace: Path, client_name: str
) -> None:
    """Server down: empty answers, one message, hover/symbols keep answering; then up."""
    port = free_port()
    settings = {
        "completion": {
            "endpoint": {"base_url": f"http://127.0.0.1:{port}/v1", "model": "demo"},
            "time_budget_ms": 60000,
            "debounce_ms": 0,
            "backoff_max_s": 1.0,
        }
    }
    lsp = await start_server(sample_workspace, client=client_name, settings=settings, env=ENV)
    ready = await wait_ready(lsp)
    assert ready["backend"] == "openai", ready
    uri = open_doc(lsp, sample_workspace / "calc.py", SOURCE)
    assert await suggest(lsp, client_name, uri, CURSOR) == ""
    assert await suggest(lsp, client_name, uri, CURSOR) == ""
    down = [m for m in lsp.messages if "unavailable" in m.message]
    assert len(down) == 1, [m.message for m in lsp.messages]
    assert (await status(lsp))["completion"]["server_up"] is False
    # The rest of the editor keeps working.
    models = sample_workspace / "inventory" / "models.py"
    await lsp.text_document_document_symbol_async(
        types.DocumentSymbolParams(types.TextDocumentIdentifier(models.as_uri()))
    )
    await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(models.as_uri()), types.Position(8, 7))
    )

    with llama_server(port):
        deadline = time.monotonic() + 60
        suggestion = ""
        while not suggestion:
            assert time.monotonic() < deadline, "never recovered"
            await asyncio.sleep(0.5)  # past the back-off
            suggestion = await suggest(lsp, client_name, uri, CURSOR)
        assert suggestion.strip()
        assert (await status(lsp))["completion"]["server_up"] is True
        assert any("is back" in m.message for m in lsp.messages)


async def test_invalid_gguf_is_reported_once_and_the_rest_works(
    start_server: StartServer, sample_workspace: Path
) -> None:
    bogus = sample_workspace / "broken.gguf"
    bogus.write_bytes(b"this is not a model")
    settings = {"models": {"gguf": str(bogus)}}
    lsp = await start_server(sample_workspace, settings=settings, env=ENV)
    ready = await wait_ready(lsp)
    assert "not a GGUF" in ready["error"]
    uri = open_doc(lsp, sample_workspace / "calc.py", SOURCE)
    assert await suggest(lsp, "visual_studio_code", uri, CURSOR) == ""
    shown = [m for m in lsp.messages if "completion is off" in m.message]
    assert len(shown) == 1
    assert (await status(lsp))["root"]
