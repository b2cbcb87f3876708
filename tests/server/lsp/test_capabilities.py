"""Client capabilities as one question each, on the shapes real clients send."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import client_capabilities

from atoll.server.lsp import capabilities


def _caps(name: str) -> types.ClientCapabilities:
    caps: types.ClientCapabilities = client_capabilities(name)
    return caps


def test_an_empty_client_announces_nothing_but_markdown_hovers() -> None:
    empty = types.ClientCapabilities()
    assert not capabilities.work_done_progress(empty)
    assert not capabilities.resource_operations(empty)
    assert not capabilities.inline_completion(empty)
    assert not capabilities.hierarchical_symbols(empty)
    assert capabilities.hover_markdown(empty)  # the LSP default when a client says nothing
    assert not capabilities.work_done_progress(None)


def test_vs_code_and_neovim() -> None:
    code, nvim = _caps("visual_studio_code"), _caps("neovim")
    for caps in (code, nvim):
        assert capabilities.work_done_progress(caps)
        assert capabilities.hierarchical_symbols(caps)
        assert capabilities.hover_markdown(caps)
    assert capabilities.resource_operations(code)


def test_plain_text_hovers() -> None:
    plain = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
        )
    )
    assert not capabilities.hover_markdown(plain)
