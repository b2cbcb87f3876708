"""Golden strings for every fill-in-the-middle template."""

from __future__ import annotations

import pytest

from atoll.completion.templates import (
    TEMPLATES,
    ContextFile,
    UnknownTemplateError,
    detect_template,
    template_by_name,
)

PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"

GOLDEN = {
    "qwen": "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
    "deepseek": "<｜fim▁begin｜>def add(a, b):\n    return <｜fim▁hole｜>\n\nprint(add(1, 2))\n<｜fim▁end｜>",
    "codellama": "<PRE> def add(a, b):\n    return  <SUF>\n\nprint(add(1, 2))\n <MID>",
    "starcoder": "<fim_prefix>def add(a, b):\n    return <fim_suffix>\n\nprint(add(1, 2))\n<fim_middle>",
    "codegemma": "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>",
    "codestral": "[SUFFIX]\n\nprint(add(1, 2))\n[PREFIX]def add(a, b):\n    return ",
    "prefix-only": "def add(a, b):\n    return ",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_without_context(name: str) -> None:
    prompt = template_by_name(name).render(PREFIX, SUFFIX)
    assert prompt.text == GOLDEN[name]
    # Special tokens are separate segments, never part of the code's text.
    for segment in prompt.segments:
        if not segment.special:
            assert (
                segment.text in (PREFIX, SUFFIX) or PREFIX in segment.text or SUFFIX in segment.text
            )


def test_every_template_has_a_golden_string() -> None:
    assert set(GOLDEN) == set(TEMPLATES)


def test_qwen_repo_level_form() -> None:
    context = [ContextFile("pkg/util.py", "def helper():\n    return 1")]
    prompt = template_by_name("qwen").render(
        PREFIX, SUFFIX, path="pkg/main.py", context=context, repo="demo"
    )
    assert prompt.text == (
        "<|repo_name|>demo\n"
        "<|file_sep|>pkg/util.py\ndef helper():\n    return 1\n"
        "<|file_sep|>pkg/main.py\n"
        "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>"
    )
    specials = [s.text for s in prompt.segments if s.special]
    assert specials == [
        "<|repo_name|>",
        "<|file_sep|>",
        "<|file_sep|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    ]


def test_starcoder_repo_level_form() -> None:
    prompt = template_by_name("starcoder").render(
        "x = ", "", path="a.py", context=[ContextFile("b.py", "y = 1")], repo="r"
    )
    assert prompt.text == (
        "<repo_name>r\n<file_sep>b.py\ny = 1\n<file_sep>a.py\n<fim_prefix>x = <fim_suffix><fim_middle>"
    )


def test_context_as_comments_for_families_without_repo_tokens() -> None:
    prompt = template_by_name("deepseek").render(
        "x = ", "", path="a.rs", context=[ContextFile("b.rs", "fn y() {}")], comment="//"
    )
    assert (
        prompt.text
        == "<｜fim▁begin｜>// b.rs\n// fn y() {}\n\n// a.rs\nx = <｜fim▁hole｜><｜fim▁end｜>"
    )
    plain = template_by_name("prefix-only").render("x = ", "", path="a.py")
    assert plain.text == "# a.py\nx = "


def test_stop_sequences_include_the_end_tokens() -> None:
    assert "<|endoftext|>" in template_by_name("qwen").stop
    assert "<EOT>" in template_by_name("codellama").stop
    assert "<|file_separator|>" in template_by_name("codegemma").stop


def test_detection_by_model_name_and_unknown_names() -> None:
    assert detect_template(None, "Qwen/Qwen2.5-Coder-7B-Instruct").name == "qwen"
    assert detect_template(None, "deepseek-coder-6.7b-base").name == "deepseek"
    assert detect_template(None, "bigcode/starcoder2-3b").name == "starcoder"
    assert detect_template(None, "codestral-22b").name == "codestral"
    assert detect_template(None, "llama-3-8b").name == "prefix-only"
    with pytest.raises(UnknownTemplateError, match="known"):
        template_by_name("gpt")
