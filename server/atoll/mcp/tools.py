"""What the MCP tools answer, as plain JSON-able values computed from the workspace index.

One convention for every tool: paths are relative to the workspace (with ``/``), and line
numbers count from 1, inclusive at both ends, as an agent reading a file sees them.
Nothing here writes to the workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from atoll.indexing import Symbol

if TYPE_CHECKING:
    from atoll.indexing import WorkspaceIndex as CodeIndex

MAX_RESULTS = 50
# A definition longer than this is cut (the agent can read the file for the rest).
MAX_DEFINITION_LINES = 400


def relative(root: Path, path: Path) -> str:
    """``path`` relative to the workspace, or as given when it lies outside."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _symbol(root: Path, s: Symbol) -> dict[str, Any]:
    return {
        "name": s.qualified_name,
        "kind": s.kind_name,
        "path": relative(root, s.path),
        "line": s.sel_start_line + 1,
        "end_line": s.end_line + 1,
        "signature": s.signature,
        "doc": s.doc,
        "references": s.references,
    }


def search_code(
    index: CodeIndex, query: str, k: int = 10, language: str = "", path: str = ""
) -> list[dict[str, Any]]:
    """Hybrid (lexical + semantic) search over the indexed code chunks."""
    hits = index.search(
        query, max(1, min(k, MAX_RESULTS)), language=language or None, path_prefix=path or None
    )
    return [
        {
            "path": relative(index.root, h.path),
            "start_line": h.start_line + 1,
            "end_line": h.end_line + 1,
            "symbol": h.symbol,
            "language": h.language,
            "score": round(h.score, 4),
            "text": h.text,
        }
        for h in hits
    ]


def find_symbols(index: CodeIndex, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Definitions whose names match: exact, prefix, camelCase/snake_case parts, fuzzy."""
    return [
        _symbol(index.root, s) for s in index.find_symbols(query, max(1, min(limit, MAX_RESULTS)))
    ]


def outline(index: CodeIndex, budget: int = 1024, focus: list[str] | None = None) -> str:
    """The ranked repository map: files → classes/functions with signatures."""
    paths = [index.root / p for p in focus or []]
    return index.outline(max(64, budget), [p for p in paths if p.is_relative_to(index.root)])


def read_definition(index: CodeIndex, name: str, path: str = "") -> list[dict[str, Any]]:
    """The source of the definitions named ``name`` (``Class.method`` narrows it), at most 5.

    ``path`` keeps those in one file (workspace-relative). The text is read from disk now.
    """
    found = [s for s in index.definitions(name) if not path or relative(index.root, s.path) == path]
    out: list[dict[str, Any]] = []
    for s in found[:5]:
        entry = _symbol(index.root, s)
        entry["start_line"] = s.start_line + 1
        try:
            lines = s.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            entry["error"] = f"cannot read {entry['path']}: {exc.strerror or exc}"
            out.append(entry)
            continue
        body = lines[s.start_line : s.end_line + 1]
        if len(body) > MAX_DEFINITION_LINES:
            body = body[:MAX_DEFINITION_LINES]
            entry["truncated"] = True
        entry["source"] = "\n".join(body)
        out.append(entry)
    return out
