"""What the client announced at ``initialize``: one question, one function.

Each takes the client's capabilities (``server.client_capabilities``), so a feature
asks ``capabilities.work_done_progress(ls.client_capabilities)`` instead of walking
the optional fields itself, and a test passes a hand-built value.
"""

from __future__ import annotations

from lsprotocol import types


def work_done_progress(caps: types.ClientCapabilities | None) -> bool:
    """The client shows server-initiated work-done progress."""
    return bool(caps and caps.window and caps.window.work_done_progress)


def resource_operations(caps: types.ClientCapabilities | None) -> bool:
    """A workspace edit may create, rename and delete files."""
    edit = caps.workspace.workspace_edit if caps and caps.workspace else None
    return bool(edit and edit.resource_operations)


def hover_markdown(caps: types.ClientCapabilities | None) -> bool:
    """Hovers may be Markdown (also when the client does not say: the LSP default)."""
    hover = caps.text_document.hover if caps and caps.text_document else None
    formats = hover.content_format if hover else None
    return not formats or types.MarkupKind.Markdown in formats


def inline_completion(caps: types.ClientCapabilities | None) -> bool:
    """The client asks for ``textDocument/inlineCompletion`` (ghost text)."""
    document = caps.text_document if caps else None
    return document is not None and document.inline_completion is not None


def hierarchical_symbols(caps: types.ClientCapabilities | None) -> bool:
    """``textDocument/documentSymbol`` may answer a tree of ``DocumentSymbol``."""
    document = caps.text_document if caps else None
    symbols = document.document_symbol if document else None
    return bool(symbols and symbols.hierarchical_document_symbol_support)
