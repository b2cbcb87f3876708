"""Capabilities of real editors, for the demo and the e2e tests."""

from __future__ import annotations

from lsprotocol import types

CLIENTS = ("visual_studio_code", "neovim")


def capabilities_for(client: str) -> types.ClientCapabilities:
    """The recorded capabilities of a real client (from pytest-lsp's records).

    pytest-lsp's VS Code record (1.65) predates LSP 3.18; VS Code 1.100 with
    vscode-languageclient 10 also announces inline completion, so we add it.
    Neovim's record (0.11) has no inline completion: the fallback path.
    """
    from pytest_lsp import client_capabilities

    caps = client_capabilities(client)
    if client == "visual_studio_code" and caps.text_document is not None:
        caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps
