"""The crew's diff as one LSP ``WorkspaceEdit``, checked against the editor's current text.

A file that changed since the crew staged it (an edited buffer, a file saved meanwhile)
is reported as a conflict and left out, never clobbered. Edits are line-based, so they
do not depend on the negotiated position encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from atoll.agents import FileChange, WorkspaceDiff
from atoll.agents.apply import unsafe_component
from atoll.server.lsp import edits
from atoll.server.lsp.texts import OpenTexts, TextError

# None: no file there. May raise TextError for a file that exists but is not text.
CurrentText = Callable[[Path], str | None]


@dataclass
class PlannedEdit:
    edit: types.WorkspaceEdit
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    # (path, why): a symlink on the way in the real workspace; the editor would follow it.
    refused: list[tuple[str, str]] = field(default_factory=list)


def current_texts(texts: OpenTexts) -> CurrentText:
    """The conflict check's view of a file: its exact text, or None when there is none."""

    def current(path: Path) -> str | None:
        try:
            return texts.text(path)
        except TextError as exc:
            if exc.missing:
                return None
            raise

    return current


def plan_edit(
    diff: WorkspaceDiff,
    root: Path,
    current: CurrentText,
    versions: dict[str, int],
    *,
    resource_operations: bool,
    units: Callable[[str], int] = edits.utf16_units,
) -> PlannedEdit:
    """Build the WorkspaceEdit for ``diff``; ``versions`` maps open URIs to their version."""
    changes: list[edits.DocumentChange] = []
    planned = PlannedEdit(types.WorkspaceEdit())
    for change in diff.changes:
        path = root / change.path
        uri = path.as_uri()
        paths = [change.path] + ([change.old_path] if change.old_path else [])
        why = next((w for p in paths if (w := unsafe_component(root, p))), None)
        if why is not None:
            planned.refused.append((change.path, why))
            continue
        if not _unchanged_since_staging(change, root, current):
            planned.conflicts.append(change.path)
            continue
        if change.kind != "modified" and not resource_operations:
            planned.unsupported.append(change.path)
            continue
        if change.kind == "modified":
            assert change.old_text is not None and change.new_text is not None
            line_edits = edits.line_edits(change.old_text, change.new_text, units)
            changes.append(edits.modify_file(uri, versions.get(uri), line_edits))
        elif change.kind == "added":
            changes.extend(edits.create_file(uri, change.new_text or ""))
        elif change.kind == "renamed":
            changes.append(edits.rename_file((root / (change.old_path or "")).as_uri(), uri))
        elif change.kind == "deleted":
            changes.append(edits.delete_file(uri))
        planned.files.append(change.path)
    planned.edit = types.WorkspaceEdit(document_changes=changes)
    return planned


def _unchanged_since_staging(change: FileChange, root: Path, current: CurrentText) -> bool:
    try:
        if change.kind == "added":
            return current(root / change.path) is None
        source = root / (change.old_path or change.path)
        if current(source) != change.old_text:
            return False
        return change.kind != "renamed" or current(root / change.path) is None
    except TextError:  # a file there that is not text: it is not what the crew saw
        return False
