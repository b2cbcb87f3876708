"""Post-processing: single vs multi-line, suffix overlap, brackets, indentation, junk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.completion.postprocess import (
    CursorContext,
    block_ended,
    clean,
    is_repetitive,
    wants_multiline,
)


def at(source: str) -> tuple[CursorContext, str]:
    """Split ``source`` at ``|``."""
    prefix, suffix = source.split("|")
    return CursorContext.from_text(prefix, suffix), suffix


def test_multiline_after_block_opener_or_on_empty_line() -> None:
    assert wants_multiline(at("def f():|\n")[0])
    assert wants_multiline(at("def f():\n    |\n")[0])
    assert wants_multiline(at("fn main() {|\n}")[0])
    assert not wants_multiline(at("x = compute(|)\n")[0])
    assert not wants_multiline(at("return a|\n")[0])
    assert wants_multiline(at("return a|\n")[0], "always")
    assert not wants_multiline(at("def f():|\n")[0], "never")


def test_single_line_cut_and_suffix_overlap() -> None:
    ctx, _ = at("total = add(|)\n")
    assert clean("a, b)\nprint(total)", ctx, multiline=False) == "a, b"
    ctx, _ = at("if ready|:\n")
    assert clean(" and not done:", ctx, multiline=False) == " and not done"


def test_unbalanced_closer_is_cut() -> None:
    ctx, _ = at("value = compute(x|\n")
    assert clean(", y))", ctx, multiline=False) == ", y)"
    ctx, _ = at("value = |\n")
    assert clean("items[0]]", ctx, multiline=False) == "items[0]"
    ctx, _ = at("s = |\n")
    assert clean('")" + x', ctx, multiline=False) == '")" + x'  # brackets inside strings


def test_multiline_stays_in_the_block() -> None:
    ctx, _ = at("def f(x):\n    |\n")
    raw = "y = x * 2\n    return y\n\ndef g():\n    pass"
    assert clean(raw, ctx, multiline=True) == "y = x * 2\n    return y"
    ctx, _ = at("def f(x):|\n")
    raw = "\n    return x\ndef g():\n    pass"
    assert clean(raw, ctx, multiline=True) == "\n    return x"
    ctx, _ = at("fn f() {|\n")
    assert clean("\n    1\n}\nfn g() {}", ctx, multiline=True) == "\n    1\n}"


def test_multiline_stops_where_the_suffix_continues() -> None:
    ctx, _ = at("def f(x):\n    |\n    return y\n")
    assert clean("y = x + 1\n    return y\n", ctx, multiline=True) == "y = x + 1"


def test_empty_whitespace_and_repetitive_are_dropped() -> None:
    ctx, _ = at("x = |\n")
    assert clean("", ctx, multiline=False) == ""
    assert clean("   ", ctx, multiline=False) == ""
    assert clean("))))))))))))", ctx, multiline=False) == ""
    assert is_repetitive("ababababababab")
    assert is_repetitive("x = 1\nx = 1\nx = 1")
    assert not is_repetitive("for i in range(10):")
    ctx, _ = at("total += price\n|\n")
    assert clean("total += price", ctx, multiline=True) == ""  # a copy of the line above


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet="ab (){}[]:\n =\"'", max_size=40),
    suffix=st.text(alphabet="ab (){}[]:\n =", max_size=20),
    raw=st.text(max_size=80),
    multiline=st.booleans(),
)
def test_clean_is_total_and_well_formed(
    prefix: str, suffix: str, raw: str, multiline: bool
) -> None:
    ctx = CursorContext.from_text(prefix, suffix)
    out = clean(raw, ctx, multiline=multiline)
    assert out == "" or out.strip()
    assert out == out.rstrip()
    if not multiline:
        assert "\n" not in out
    # Never invents text: the result is a prefix of the (newline-normalised) raw text
    # or of its first line.
    assert raw.replace("\r\n", "\n").lstrip("\n").startswith(out) or raw.replace(
        "\r\n", "\n"
    ).startswith(out)


def test_block_ended_lets_decoding_stop_early() -> None:
    ctx, _ = at("def f(x):\n    |\n")
    assert not block_ended("y = 1", ctx)
    assert not block_ended("y = 1\n    return y\n", ctx)
    assert not block_ended("y = 1\n    return y\n\ndef", ctx)  # that line is not complete
    assert block_ended("y = 1\n    return y\n\ndef g():\n", ctx)
    assert block_ended("x\n" * 20, ctx)
