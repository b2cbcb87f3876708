"""``Delegate to AI crew``: a code action on a selection, a diagnostic or a ``TODO(atoll):``.

The action runs the ``atoll.delegate`` command with the task text; the work happens there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types

from atoll.server.app import AtollServer
from atoll.server.documents import DocumentError, document_text
from atoll.server.features.delegate import DELEGATE_COMMAND
from atoll.server.lsp.conversions import workspace_relative

TITLE = "Delegate to AI crew"
TODO = re.compile(r"TODO\(atoll\):\s*(?P<task>.+?)\s*(?:\*/|-->)?\s*$")
MAX_SELECTION_CHARS = 4000


def delegate_tasks(
    text: str, where: str, selection: types.Range, diagnostics: list[types.Diagnostic]
) -> list[tuple[str, str]]:
    """``(title, task)`` pairs for the code actions at ``selection``, most specific first."""
    lines = text.splitlines()
    tasks: list[tuple[str, str]] = []
    first, last = selection.start.line, max(selection.start.line, selection.end.line)
    for number in range(first, min(last, len(lines) - 1) + 1):
        match = TODO.search(lines[number])
        if match:
            task = match.group("task")
            tasks.append(
                (
                    f"{TITLE}: {task[:50]}",
                    f"{task}\n\n(from the TODO(atoll) comment at {where}:{number + 1})",
                )
            )
    for diagnostic in diagnostics[:3]:
        line = diagnostic.range.start.line
        tasks.append(
            (
                f"{TITLE}: fix “{diagnostic.message[:40]}”",
                f"Fix this problem at {where}:{line + 1}: {diagnostic.message}",
            )
        )
    if selection.start != selection.end and not tasks:
        body = "\n".join(lines[first : last + 1])[:MAX_SELECTION_CHARS]
        tasks.append(
            (
                TITLE,
                f"Work on this code in {where} (lines {first + 1}-{last + 1}) as its comments and context ask:\n```\n{body}\n```",
            )
        )
    return tasks


def _kind(title: str) -> types.CodeActionKind:
    return (
        types.CodeActionKind.QuickFix if "fix “" in title else types.CodeActionKind.RefactorRewrite
    )


def _wanted(kind: types.CodeActionKind, only: Sequence[types.CodeActionKind | str] | None) -> bool:
    """Whether the client's ``only`` filter (kinds and their parents) admits ``kind``."""
    return not only or any(kind.value.startswith(str(getattr(k, "value", k))) for k in only)


def code_actions(ls: AtollServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    """``textDocument/codeAction``: one "Delegate to AI crew" action per task found."""
    uri = params.text_document.uri
    if not ls.workspace_trusted:
        return None  # no crew in a folder the editor does not trust
    try:
        text = document_text(ls, uri)
    except DocumentError:
        return None
    found = delegate_tasks(
        text, workspace_relative(ls.root, uri), params.range, list(params.context.diagnostics)
    )
    actions = []
    for title, task in found:
        kind = _kind(title)
        if not _wanted(kind, params.context.only):
            continue
        command = types.Command(
            title=title, command=DELEGATE_COMMAND, arguments=[{"task": task, "uri": uri}]
        )
        actions.append(types.CodeAction(title=title, kind=kind, command=command))
    return actions or None


def register(server: AtollServer) -> None:
    options = types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]
    )
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(
        server.guarded("code actions", default=None)(code_actions)
    )
