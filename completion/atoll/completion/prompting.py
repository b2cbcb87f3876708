"""From a cursor in a document to a prompt: bounded text, token windows, snippets.

The layout keeps the prompt's beginning stable while the user edits (see
:mod:`atoll.completion.window` and :mod:`atoll.completion.templates`): the file's
prefix in grid blocks, the block the cursor is in last (after the middle token for
fill-in-the-middle templates), and index snippets chosen from the lines above that
block, so they change only when the cursor enters another block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from atoll.completion.context import RecentEdits, SnippetFinder, comment_mark, fit
from atoll.completion.postprocess import CursorContext
from atoll.completion.protocols import CodeIndex
from atoll.completion.templates import ContextFile, FimTemplate
from atoll.completion.window import (
    CHARS_PER_TOKEN,
    TokenCounter,
    blocks,
    cut,
    prefix_window,
    suffix_window,
)
from atoll.config.schema import CompletionConfig
from atoll.models.types import Prompt

log = logging.getLogger(__name__)
IndexProvider = Callable[[], CodeIndex | None]


class Surroundings(TypedDict, total=False):
    """What a prompt may draw on besides the file: the workspace folder (snippets from
    files nearby, relative names) and the index (definitions of names in use)."""

    root: Path | None
    index: IndexProvider | None


CONTEXT_CHARS = 4096  # what post-processing looks at around the cursor


@dataclass(frozen=True)
class Cursor:
    """A cursor with the text around it, bounded by characters."""

    prefix: str  # up to the cursor (with a selected popup item's text at its end)
    suffix: str
    first_line: int  # the absolute line of the prefix's first line
    start: int  # where the suggestion is inserted (a selected item's start)
    offset: int  # the cursor as if the selected item were typed (for type-ahead)
    selected: str = ""

    @property
    def line(self) -> int:
        return self.first_line + self.prefix.count("\n")

    def context(self) -> CursorContext:
        return CursorContext.from_text(self.prefix[-CONTEXT_CHARS:], self.suffix[:CONTEXT_CHARS])


class PromptBuilder:
    """Builds prompts for one model and template (one per engine)."""

    def __init__(
        self,
        count: Callable[[str], int],
        template: FimTemplate,
        config: CompletionConfig,
        **around: Unpack[Surroundings],
    ) -> None:
        self.template = template
        self.config = config
        self.root = root = around.get("root")
        self.index = around.get("index") or (lambda: None)
        self.count = TokenCounter(count)
        self.snippets = SnippetFinder(root)
        self.recent = RecentEdits(config.recent_edits)

    def cursor(
        self, text: str, offset: int, selected_text: str = "", selected_start: int | None = None
    ) -> Cursor:
        """The bounded text around ``offset`` (clamped into ``text``)."""
        cfg = self.config
        offset = max(0, min(offset, len(text)))
        start = offset
        selected = ""
        if selected_start is not None and selected_text:
            start = max(0, min(selected_start, offset))
            selected = selected_text
        bound = cut(
            text, start, cfg.prefix_tokens * CHARS_PER_TOKEN, cfg.suffix_tokens * CHARS_PER_TOKEN
        )
        suffix = text[offset : offset + cfg.suffix_tokens * CHARS_PER_TOKEN]
        return Cursor(
            bound.prefix + selected,
            suffix,
            bound.first_line,
            start,
            start + len(selected),
            selected,
        )

    def note_edit(self, path: Path | None, text: str, line: int, offset: int) -> None:
        """An edit at ``offset`` (line ``line``): remembered for other files' prompts."""
        rel = self.snippets.relative(path)
        if rel:
            self.recent.record(rel, text, line, offset)

    def build(
        self, cursor: Cursor, path: Path | None, *, context: bool = True
    ) -> tuple[Prompt, list[ContextFile]]:
        """The prompt for ``cursor`` in the file at ``path``, and the snippets it carries."""
        cfg = self.config
        rel = self.snippets.relative(path)
        window, start_line = prefix_window(
            cursor.prefix, cfg.prefix_tokens, self.count, first_line=cursor.first_line
        )
        parts = blocks(window, start_line)
        fim = self.template.fim
        middle = parts.pop() if fim else ""
        current = middle if fim else parts[-1]
        after = suffix_window(cursor.suffix, cfg.suffix_tokens, self.count) if fim else ""
        files: list[ContextFile] = []
        if context and cfg.context_tokens > 0:
            # Lines above the cursor's block: the snippets stay while the cursor is in it.
            above = "".join(parts if fim else parts[:-1]).split("\n")[:-1]
            block_line = cursor.line - current.count("\n")
            found: list[ContextFile] = []
            index = self.index()
            if index is not None:
                found = self.snippets.find(
                    index, rel, above, skip_lines=(start_line, block_line + 64)
                )
            found += self.recent.snippets(rel)
            files = fit(found, cfg.context_tokens, self.count)
        prompt = self.template.render(
            parts or [""],
            after,
            path=rel,
            context=files,
            repo=self.root.name if self.root else "",
            comment=comment_mark(rel),
            middle=middle,
        )
        return prompt, files

    def first_window_end(self, text: str) -> int:
        """The end of the last line of the window a cursor near the top would get: the
        place to warm a file whose cursor is not known yet."""
        budget = self.config.prefix_tokens
        total = end = 0
        for line in text[: budget * CHARS_PER_TOKEN].split("\n"):
            total += self.count(line) + 1
            if total > budget:
                break
            end += len(line) + 1
        return max(0, min(end - 1, len(text)))

    def at(self, text: str, offset: int, path: Path | None, *, context: bool = True) -> Prompt:
        """The prompt for a cursor at ``offset`` in ``text`` (benchmarks, the CLI)."""
        prompt, _ = self.build(self.cursor(text, offset), path, context=context)
        return prompt
