"""Hover text: the index's facts first, the explanation (or a note about it) last."""

from __future__ import annotations

from pathlib import Path

from atoll.explain.facts import HoverFacts

PENDING_NOTE = "Explanation on its way: hover again in a moment."


def _references(facts: HoverFacts) -> str:
    count = facts.references
    refs = f"{count} reference" + ("" if count == 1 else "s")
    if facts.other_definitions:
        more = facts.other_definitions
        refs += f" · {more} other definition" + ("" if more == 1 else "s")
    return refs


def render_markdown(
    facts: HoverFacts, *, root: Path | None, explanation: str | None, pending: bool
) -> str:
    """Markdown for clients that render it (VS Code, Neovim)."""
    parts = [f"```{facts.language}\n{facts.signature}\n```"]
    if facts.doc:
        parts.append(facts.doc)
    link = f"{facts.path.as_uri()}#L{facts.line + 1}"
    parts.append(
        f"*{facts.kind}* `{facts.qualified_name}` · defined at "
        f"[{facts.location(root)}]({link}) · {_references(facts)}"
    )
    if explanation:
        parts.append(f"---\n**atoll:** {explanation}")
    elif pending:
        parts.append(f"---\n_{PENDING_NOTE}_")
    return "\n\n".join(parts)


def render_plain(
    facts: HoverFacts, *, root: Path | None, explanation: str | None, pending: bool
) -> str:
    """Plain text for clients that only take plaintext."""
    lines = [facts.signature]
    if facts.doc:
        lines.append(facts.doc)
    lines.append(
        f"{facts.kind} {facts.qualified_name} · defined at {facts.location(root)} · "
        f"{_references(facts)}"
    )
    if explanation:
        lines.append(f"atoll: {explanation}")
    elif pending:
        lines.append(PENDING_NOTE)
    return "\n\n".join(lines)
