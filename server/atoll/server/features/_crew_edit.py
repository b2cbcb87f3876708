"""The crew's diff as one LSP ``WorkspaceEdit``, checked against the editor's current text.

A file that changed since the crew staged it (an edited buffer, a file saved meanwhile)
is reported as a conflict and left out, never clobbered. Edits are line-based, so they
do not depend on the negotiated position encoding.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from atoll.agents import FileChange, WorkspaceDiff
from atoll.agents.apply import unsafe_component

CurrentText = Callable[[Path], str | None]  # None: the file does not exist


@dataclass
class PlannedEdit:
    edit: types.WorkspaceEdit
    files: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    # (path, why): a symlink on the way in the real workspace; the editor would follow it.
    refused: list[tuple[str, str]] = field(default_factory=list)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def line_edits(
    old: str, new: str, units: Callable[[str], int] = utf16_units
) -> list[types.TextEdit]:
    """Whole-line replacements turning ``old`` into ``new`` (``units`` measures a line
    in the negotiated position encoding, needed only for a last line without newline)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if a and a[-1].endswith(("\n", "\r")):
        end_of_text = types.Position(len(a), 0)
    elif a:
        end_of_text = types.Position(len(a) - 1, units(a[-1]))
    else:
        end_of_text = types.Position(0, 0)
    edits = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = types.Position(i1, 0) if i1 < len(a) else end_of_text
        end = types.Position(i2, 0) if i2 < len(a) else end_of_text
        edits.append(types.TextEdit(types.Range(start, end), "".join(b[j1:j2])))
    return edits


def apply_line_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply edits made by :func:`line_edits` (for tests and for clients without edits)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        return offsets[pos.line] + pos.character

    out = text
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        out = out[: offset(edit.range.start)] + edit.new_text + out[offset(edit.range.end) :]
    return out


def plan_edit(
    diff: WorkspaceDiff,
    root: Path,
    current: CurrentText,
    versions: dict[str, int],
    *,
    resource_operations: bool,
    units: Callable[[str], int] = utf16_units,
) -> PlannedEdit:
    """Build the WorkspaceEdit for ``diff``; ``versions`` maps open URIs to their version."""
    changes: list[
        types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
    ] = []
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
            ident = types.OptionalVersionedTextDocumentIdentifier(uri, versions.get(uri))
            changes.append(
                types.TextDocumentEdit(
                    ident, list(line_edits(change.old_text, change.new_text, units))
                )
            )  # type: ignore[arg-type]
        elif change.kind == "added":
            changes.append(
                types.CreateFile(
                    uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
                )
            )
            ident = types.OptionalVersionedTextDocumentIdentifier(uri, None)
            insert = types.TextEdit(
                types.Range(types.Position(0, 0), types.Position(0, 0)), change.new_text or ""
            )
            changes.append(types.TextDocumentEdit(ident, [insert]))
        elif change.kind == "renamed":
            old_uri = (root / (change.old_path or "")).as_uri()
            changes.append(
                types.RenameFile(old_uri, uri, options=types.RenameFileOptions(overwrite=False))
            )
        elif change.kind == "deleted":
            changes.append(types.DeleteFile(uri))
        planned.files.append(change.path)
    planned.edit = types.WorkspaceEdit(document_changes=changes)
    return planned


def _unchanged_since_staging(change: FileChange, root: Path, current: CurrentText) -> bool:
    if change.kind == "added":
        return current(root / change.path) is None
    source = root / (change.old_path or change.path)
    if current(source) != change.old_text:
        return False
    return change.kind != "renamed" or current(root / change.path) is None
