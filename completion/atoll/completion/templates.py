"""Fill-in-the-middle prompt templates, one per model family, and their detection.

Each template renders a prefix, a suffix, the file path and context files (other
files' snippets) into a :class:`~atoll.completion.protocols.Prompt` of segments, so
the backend can map special tokens to ids and never tokenizes user code as special.
The order is chosen so what changes while typing comes last, letting the KV cache of
everything before it be reused: the prefix arrives as blocks (each its own segment, see
``atoll.completion.window``), and with a fill-in-the-middle template the block the
cursor is in goes after the middle token (``middle``), as llama.cpp's ``/infill`` does
with the cursor line. Typing, Enter and backspace then change only the prompt's end;
the suffix is evaluated again only when the cursor enters a new block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atoll.models.gguf import GgufInfo
from atoll.models.types import Infill, Prompt, Segment


@dataclass(frozen=True)
class ContextFile:
    """A snippet of another file offered as context (path relative to the workspace)."""

    path: str
    text: str


@dataclass(frozen=True)
class FimTemplate:
    """How one model family spells fill-in-the-middle."""

    name: str
    prefix: str = ""  # special token before the prefix ("" for prefix-only)
    suffix: str = ""
    middle: str = ""
    # "psm": prefix, suffix, middle; "spm": suffix first (Codestral).
    order: str = "psm"
    stop: tuple[str, ...] = ()
    repo_name: str = ""  # repository-level tokens, when the family has them
    file_sep: str = ""
    # CodeLlama puts spaces around its sentinel tokens.
    spaced: bool = False
    comment: str = "#"

    @property
    def fim(self) -> bool:
        return bool(self.prefix and self.suffix and (self.middle or self.order == "spm"))

    @property
    def repo_level(self) -> bool:
        return bool(self.file_sep)

    def render(
        self,
        prefix: str | Sequence[str],
        suffix: str,
        *,
        path: str = "",
        context: Sequence[ContextFile] = (),
        repo: str = "",
        comment: str | None = None,
        middle: str = "",
    ) -> Prompt:
        """The prompt for a cursor between ``prefix`` + ``middle`` and ``suffix``.

        ``prefix`` may be a sequence of blocks (one segment each); ``middle`` is text
        right before the cursor that goes after the middle token (with a FIM template;
        prefix-only prompts simply continue with it).
        """
        parts = [prefix] if isinstance(prefix, str) else list(prefix)
        mark = comment or self.comment
        segments: list[Segment] = []
        if self.repo_level and (context or path):
            segments += [Segment(self.repo_name, True), Segment(f"{repo or 'workspace'}\n")]
            for item in context:
                segments += [Segment(self.file_sep, True), Segment(f"{item.path}\n{item.text}\n")]
            segments += [Segment(self.file_sep, True), Segment(f"{path}\n")]
            head = ""
        else:
            head = _comment_header(path, context, mark)
        if not self.fim:
            segments += [Segment(head), *map(Segment, parts), Segment(middle)]
        elif self.order == "spm":
            segments += [Segment(self.suffix, True), Segment(suffix), Segment(self.prefix, True)]
            segments += [Segment(head), *map(Segment, parts)]
            if self.middle:
                segments.append(Segment(self.middle, True))
            segments.append(Segment(middle))
        elif self.spaced:
            parts[0] = " " + head + parts[0]
            parts[-1] += " "
            segments += [Segment(self.prefix, True), *map(Segment, parts)]
            segments += [
                Segment(self.suffix, True),
                Segment(suffix + " "),
                Segment(self.middle, True),
            ]
            segments.append(Segment(middle))
        else:
            segments += [Segment(self.prefix, True), Segment(head), *map(Segment, parts)]
            segments += [Segment(self.suffix, True), Segment(suffix), Segment(self.middle, True)]
            segments.append(Segment(middle))
        extra = tuple((item.path, item.text) for item in context)
        infill = Infill("".join(parts), suffix, middle, extra) if self.fim else None
        return Prompt(tuple(s for s in segments if s.text), self.stop, infill=infill)


def _comment_header(path: str, context: Sequence[ContextFile], mark: str) -> str:
    """Context as comments, for families without repository-level tokens."""
    lines: list[str] = []
    for item in context:
        lines.append(f"{mark} {item.path}")
        lines.extend(f"{mark} {line}" if line else mark for line in item.text.splitlines())
        lines.append("")
    if path:
        lines.append(f"{mark} {path}")
    return "\n".join(lines) + "\n" if lines else ""


QWEN = FimTemplate(
    "qwen",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    stop=(
        "<|endoftext|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|fim_pad|>",
        "<|file_sep|>",
        "<|repo_name|>",
        "<|im_end|>",
    ),
    repo_name="<|repo_name|>",
    file_sep="<|file_sep|>",
)
DEEPSEEK = FimTemplate(
    "deepseek",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    stop=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>", "<｜fim▁hole｜>"),
)
CODELLAMA = FimTemplate(
    "codellama",
    "<PRE>",
    "<SUF>",
    "<MID>",
    stop=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
    spaced=True,
)
STARCODER = FimTemplate(
    "starcoder",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    stop=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
    repo_name="<repo_name>",
    file_sep="<file_sep>",
)
CODEGEMMA = FimTemplate(
    "codegemma",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    stop=("<|file_separator|>", "<eos>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
)
CODESTRAL = FimTemplate(
    "codestral",
    "[PREFIX]",
    "[SUFFIX]",
    "",
    order="spm",
    stop=("</s>", "[PREFIX]", "[SUFFIX]"),
)
PREFIX_ONLY = FimTemplate(
    "prefix-only",
    stop=("<|endoftext|>", "<|im_end|>", "<|im_start|>", "</s>", "<eos>"),
)

TEMPLATES: dict[str, FimTemplate] = {
    t.name: t for t in (QWEN, DEEPSEEK, CODELLAMA, STARCODER, CODEGEMMA, CODESTRAL, PREFIX_ONLY)
}
# Model-name hints for remote models whose tokenizer we cannot read.
_NAME_HINTS: tuple[tuple[tuple[str, ...], FimTemplate], ...] = (
    (("qwen", "coder"), QWEN),
    (("deepseek", "coder"), DEEPSEEK),
    (("codellama",), CODELLAMA),
    (("code-llama",), CODELLAMA),
    (("starcoder",), STARCODER),
    (("codegemma",), CODEGEMMA),
    (("codestral",), CODESTRAL),
)


class UnknownTemplateError(ValueError):
    """``completion.fim_template`` names no known template."""


def template_by_name(name: str) -> FimTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplateError(
            f"unknown FIM template {name!r}; known: auto, {', '.join(TEMPLATES)}"
        ) from None


def detect_template(info: GgufInfo | None = None, model_name: str = "") -> FimTemplate:
    """The template a model needs: from its GGUF special tokens, else its name."""
    if info is not None:
        tokens = set(info.fim_tokens) | set(info.special_tokens)
        if "<|fim_prefix|>" in tokens:
            gemma = "gemma" in info.architecture or "<|file_separator|>" in tokens
            return CODEGEMMA if gemma else QWEN
        if "<｜fim▁begin｜>" in tokens:
            return DEEPSEEK
        if "<fim_prefix>" in tokens:
            return STARCODER
        if "[SUFFIX]" in tokens and "[PREFIX]" in tokens:
            return CODESTRAL
        if {"<PRE>", "▁<PRE>"} & tokens:
            return CODELLAMA
        return PREFIX_ONLY
    lowered = model_name.lower()
    for words, template in _NAME_HINTS:
        if all(w in lowered for w in words):
            return template
    return PREFIX_ONLY
