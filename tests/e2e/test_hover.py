"""Hover over LSP: the index's facts at once, the model's explanation cached for the next hover.

The first hover on a symbol answers immediately (``hover.wait_ms`` is 0 by default) with
signature, docstring, definition and reference count, and says an explanation is coming;
the explanation is written in the background by the real demo model and the second hover
shows it. Runs with VS Code's and Neovim's capabilities.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartServer, status

pytestmark = pytest.mark.slow
ENV = {"ATOLL_INDEXING_EMBEDDINGS": "0"}
# A generous budget (the tests share two cores with everything else); no warm-up decode
# racing the test's own requests.
SETTINGS: dict[str, Any] = {"hover": {"time_budget_ms": 60000}, "completion": {"warmup": False}}
PENDING = "hover again"


def explained(text: str | None) -> bool:
    return text is not None and ("**atoll:**" in text or "\n\natoll: " in text)


async def hover_until(
    lsp: LanguageClient,
    uri: str,
    position: types.Position,
    ready: Callable[[str | None], bool],
    *,
    timeout: float = 90.0,
) -> str:
    """Hover repeatedly until ``ready(text)``: how a user waits for the index and the model.

    (Polling hover rather than ``atoll.status`` keeps these tests about hover alone.)
    """
    deadline = time.monotonic() + timeout
    while True:
        text = await hover(lsp, uri, position)
        if ready(text):
            assert text is not None
            return text
        assert time.monotonic() < deadline, f"hover never got ready: {text!r}"
        await asyncio.sleep(0.2)


def open_file(lsp: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text or path.read_text()
            )
        )
    )
    return uri


def position_of(text: str, needle: str, shift: int = 0) -> types.Position:
    offset = text.index(needle) + shift
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


async def hover(lsp: LanguageClient, uri: str, position: types.Position) -> str | None:
    result = await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), position)
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_first_hover_has_facts_second_has_cached_explanation(
    client_name: str, sample_workspace: Path, start_server: StartServer
) -> None:
    lsp = await start_server(sample_workspace, client=client_name, settings=SETTINGS, env=ENV)
    report = sample_workspace / "inventory" / "report.py"
    text = report.read_text()
    uri = open_file(lsp, report, text)
    use = position_of(text, "format_cents(item.total_value", 3)

    # The first hover once the index and the model are up: facts now, explanation coming.
    first = await hover_until(lsp, uri, use, lambda t: t is not None and PENDING in t)
    assert "def format_cents(cents: int) -> str" in first
    assert "Format an amount in cents as dollars" in first
    assert "inventory/report.py:6" in first
    assert "3 references" in first
    assert not explained(first)

    # The next hover after the background explanation landed shows it, facts first.
    second = await hover_until(lsp, uri, use, explained)
    assert PENDING not in second
    facts, _, explanation = second.partition("atoll:")
    assert "def format_cents(cents: int) -> str" in facts and "3 references" in facts
    assert explanation.strip(" *\n")

    # Cached: the same text again, also when hovering the definition itself; one model call.
    assert await hover(lsp, uri, use) == second
    at_definition = await hover(lsp, uri, position_of(text, "def format_cents", 5))
    assert at_definition is not None and at_definition.endswith(explanation)
    hover_status = (await status(lsp))["hover"]
    assert (hover_status["generated"], hover_status["cached"]) == (1, 1), hover_status

    # Editing the definition changes its content hash: the old explanation is not reused.
    edited = text.replace("cents // 100}", "cents // 100 }")
    lsp.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    after_edit = await hover(lsp, uri, use)
    assert after_edit is not None and PENDING in after_edit and not explained(after_edit)


async def test_no_hover_on_whitespace_comment_keyword_or_unknown_symbol(
    client_name: str, sample_workspace: Path, start_server: StartServer
) -> None:
    off = {"hover": {"explain": False}, "completion": {"enabled": False}}
    client = await start_server(sample_workspace, client=client_name, settings=off, env=ENV)
    text = (
        "from inventory.report import format_cents\n"
        "\n"
        "# format_cents is mentioned in a comment\n"
        "def show(value):\n"
        "    label = 'format_cents'\n"
        "    return no_such_symbol(value) or format_cents(value)\n"
    )
    uri = open_file(client, sample_workspace / "scratch.py", text)
    known = await hover_until(
        client, uri, position_of(text, "format_cents(value)", 2), lambda t: t is not None
    )
    assert "def format_cents" in known and not explained(known) and PENDING not in known
    for needle, shift in [
        ("\n\n", 1),  # an empty line
        ("    label", 1),  # indentation
        ("format_cents is", 3),  # a comment
        ("'format_cents'", 3),  # a string
        ("return", 2),  # a keyword
        ("no_such_symbol", 3),  # unknown to the index
    ]:
        assert await hover(client, uri, position_of(text, needle, shift)) is None, needle


async def test_waiting_mode_includes_the_explanation_in_the_first_answer(
    sample_workspace: Path, start_server: StartServer
) -> None:
    waiting = {**SETTINGS, "hover": {"time_budget_ms": 60000, "wait_ms": 60000}}
    lsp = await start_server(sample_workspace, settings=waiting, env=ENV)
    models = sample_workspace / "inventory" / "models.py"
    text = models.read_text()
    uri = open_file(lsp, models, text)
    use = position_of(text, "item.total_value()", 7)
    # Before the model is up hovers carry facts only; the first one after it waits.
    first = await hover_until(
        lsp, uri, use, lambda t: t is not None and PENDING not in t and explained(t)
    )
    assert "def total_value(self) -> int" in first
    assert (await status(lsp))["hover"]["generated"] == 1
