"""The prompt that asks the model for a short explanation grounded in real code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from atoll.explain.facts import CallSite, HoverFacts

SYSTEM = (
    "You explain code to a programmer who is hovering over a symbol in their editor. "
    "Answer in at most two short sentences of plain prose: what the symbol does and "
    "how it is used. Use only the code shown; do not guess beyond it."
)


def explain_messages(
    facts: HoverFacts, sites: Sequence[CallSite], *, root: Path | None = None
) -> list[dict[str, str]]:
    """Chat messages: the definition, then up to a few call sites, then the question."""
    parts = [
        f"Definition of {facts.kind} `{facts.qualified_name}` "
        f"({facts.location(root)}):\n```{facts.language}\n{facts.source}\n```"
    ]
    for site in sites:
        where = _relative(site.path, root)
        parts.append(f"Used in {where}:{site.line + 1}:\n```\n{site.text}\n```")
    parts.append(f"Explain `{facts.name}` briefly.")
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def tidy(text: str, *, max_sentences: int = 3) -> str:
    """The model's answer without chat-template debris, cut to a few sentences."""
    text = text.replace("<|im_end|>", "").split("```", 1)[0]
    text = " ".join(text.split())
    # A sentence ends at . ! or ? followed by a space: "report.py" stays whole.
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:max_sentences]).strip()
