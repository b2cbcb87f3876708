"""Prompt templates: plain files in ``atoll/agents/templates/``, filled with ``string.Template``.

A role's system prompt can be replaced by a file of one's own (``agents.<role>.prompt``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).resolve().parent / "templates"


@functools.cache
def _load(path: Path) -> Template:
    return Template(path.read_text(encoding="utf-8"))


def template_path(name: str, override: str = "") -> Path:
    """The packaged template ``name`` (``architect``, ``coder_task`` ...) or an override file."""
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"prompt template {path} does not exist")
        return path
    return PROMPTS / f"{name}.md"


def render(name: str, override: str = "", /, **values: str) -> str:
    """Fill a template; a placeholder without a value is an error, not a silent gap."""
    return _load(template_path(name, override)).substitute(values).strip() + "\n"


def placeholders(name: str, override: str = "") -> list[str]:
    """The values template ``name`` (or its override) asks for (``$task`` ...), in order."""
    return list(dict.fromkeys(_load(template_path(name, override)).get_identifiers()))
