"""Facts from the index, the definition's content hash, call sites and the prompt."""

from __future__ import annotations

from pathlib import Path

from atoll.explain import build_facts, call_sites, explain_messages, render_markdown, render_plain
from atoll.explain.prompt import SYSTEM, tidy
from tests.explain.fakes import FakeHit, FakeIndex, FakeSymbol

SOURCE = 'def add(a, b):\n    """Sum of a and b."""\n    return a + b\n'
USE = "from calc import add\n\ntotal = add(1, 2)\nprint(total)\n"


def workspace(tmp_path: Path) -> tuple[FakeIndex, Path, Path]:
    calc = tmp_path / "calc.py"
    main = tmp_path / "main.py"
    calc.write_text(SOURCE)
    main.write_text(USE)
    symbol = FakeSymbol(
        "add", 12, "", calc, "python", 0, 2, 0, "def add(a, b):", "Sum of a and b.", 4
    )
    other = FakeSymbol("add", 6, "Cart", tmp_path / "cart.rs", "rust", 3, 5, 3, "fn add()", "", 1)
    hits = [FakeHit(calc, 0, 2, SOURCE.rstrip()), FakeHit(main, 0, 3, USE.rstrip())]
    return FakeIndex([other, symbol], hits), calc, main


def test_facts_prefer_the_same_language_and_carry_the_index_data(tmp_path: Path) -> None:
    index, calc, main = workspace(tmp_path)
    facts = build_facts(index, "add", here=main, language="python", read_text=_disk)
    assert facts is not None
    assert (facts.kind, facts.qualified_name, facts.path) == ("function", "add", calc)
    assert (facts.signature, facts.doc, facts.references) == (
        "def add(a, b):",
        "Sum of a and b.",
        4,
    )
    assert facts.other_definitions == 1
    assert facts.source == SOURCE.rstrip()
    assert facts.location(tmp_path) == "calc.py:1"
    assert build_facts(index, "missing", here=main, language="python", read_text=_disk) is None


def test_content_hash_follows_the_definition_text(tmp_path: Path) -> None:
    index, _, main = workspace(tmp_path)
    first = build_facts(index, "add", here=main, language="python", read_text=_disk)
    again = build_facts(index, "add", here=main, language="python", read_text=_disk)
    edited = build_facts(
        index,
        "add",
        here=main,
        language="python",
        read_text=lambda p: SOURCE.replace("a + b", "b + a"),
    )
    assert first is not None and again is not None and edited is not None
    assert first.content_hash == again.content_hash != edited.content_hash


def test_call_sites_skip_the_definition(tmp_path: Path) -> None:
    index, _, main = workspace(tmp_path)
    facts = build_facts(index, "add", here=main, language="python", read_text=_disk)
    assert facts is not None
    sites = call_sites(index, facts)
    assert [(s.path, s.line) for s in sites] == [(main, 0)]
    assert "import add" in sites[0].text


def test_prompt_is_grounded_in_definition_and_uses(tmp_path: Path) -> None:
    index, _, main = workspace(tmp_path)
    facts = build_facts(index, "add", here=main, language="python", read_text=_disk)
    assert facts is not None
    messages = explain_messages(facts, call_sites(index, facts), root=tmp_path)
    assert messages[0] == {"role": "system", "content": SYSTEM}
    assert messages[1]["content"] == (
        "Definition of function `add` (calc.py:1):\n```python\n"
        + SOURCE.rstrip()
        + "\n```\n\nUsed in main.py:1:\n```\nfrom calc import add\n\n```\n\nExplain `add` briefly."
    )


def test_render_shows_facts_then_explanation_or_pending_note(tmp_path: Path) -> None:
    index, _, main = workspace(tmp_path)
    facts = build_facts(index, "add", here=main, language="python", read_text=_disk)
    assert facts is not None
    md = render_markdown(facts, root=tmp_path, explanation=None, pending=True)
    assert md.startswith("```python\ndef add(a, b):\n```\n\nSum of a and b.")
    assert "[calc.py:1](" in md and "4 references · 1 other definition" in md
    assert "hover again" in md
    done = render_plain(facts, root=tmp_path, explanation="It adds.", pending=False)
    assert done.endswith("atoll: It adds.") and "hover again" not in done


def test_tidy_cuts_debris_and_long_answers() -> None:
    assert tidy("  Adds a and b.<|im_end|>") == "Adds a and b."
    assert tidy("One. Two! Three? Four.") == "One. Two! Three?"
    assert tidy("Adds.\n```python\nx\n```") == "Adds."
    assert tidy("no full stop") == "no full stop"
    assert tidy("Lives in inventory/report.py and\n  formats cents.") == (
        "Lives in inventory/report.py and formats cents."
    )


def _disk(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
