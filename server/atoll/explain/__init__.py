"""Hover explanations: what the index knows about a symbol, plus a short model-written note.

The public surface: :func:`find_target` (which identifier is under the cursor, if any),
:func:`build_facts` (signature, docstring, definition, references from a
:class:`SymbolSource`), :func:`explain_messages` (the grounded prompt) and
:class:`Explainer` (budgeted, cancellable, cached explanations from a :class:`ChatModel`).
Only plain values come out; the server turns them into LSP hovers.
"""

from atoll.explain.explainer import Explainer
from atoll.explain.facts import CallSite, HoverFacts, build_facts, call_sites
from atoll.explain.prompt import explain_messages
from atoll.explain.protocols import ChatModel, SymbolSource
from atoll.explain.render import render_markdown, render_plain
from atoll.explain.target import HoverTarget, find_target, language_for

__all__ = [
    "CallSite",
    "ChatModel",
    "Explainer",
    "HoverFacts",
    "HoverTarget",
    "SymbolSource",
    "build_facts",
    "call_sites",
    "explain_messages",
    "find_target",
    "language_for",
    "render_markdown",
    "render_plain",
]
