"""The crew benchmark's hidden tests accept a correct solution and reject a wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.bench.crew import (
    Outcome,
    agent_run,
    parse_json_files,
    parse_single_shot,
    pass_at_k,
    summarise,
)
from atoll.bench.crew_tasks import (
    MATHUTIL,
    REPORT,
    SHOP,
    WINDOW,
    Problem,
    requirement_problems,
    run_hidden_tests,
    small_problems,
    workspace,
)

CALC = """
import sys


def evaluate(expression: str) -> float:
    tokens = expression.replace("(", " ( ").replace(")", " ) ")
    for op in "+-*/":
        tokens = tokens.replace(op, f" {op} ")
    items = tokens.split()
    pos = 0

    def peek():
        return items[pos] if pos < len(items) else None

    def take():
        nonlocal pos
        pos += 1
        return items[pos - 1]

    def atom():
        tok = peek()
        if tok is None:
            raise ValueError("unexpected end")
        if tok == "-":
            take()
            return -atom()
        if tok == "(":
            take()
            value = expr()
            if peek() != ")":
                raise ValueError("missing )")
            take()
            return value
        take()
        try:
            return float(tok)
        except ValueError:
            raise ValueError(f"bad token {tok}") from None

    def term():
        value = atom()
        while peek() in ("*", "/"):
            op, rhs = take(), atom()
            value = value * rhs if op == "*" else value / rhs
        return value

    def expr():
        value = term()
        while peek() in ("+", "-"):
            op, rhs = take(), term()
            value = value + rhs if op == "+" else value - rhs
        return value

    result = expr()
    if pos != len(items):
        raise ValueError("trailing input")
    return result


if __name__ == "__main__":
    try:
        value = evaluate(sys.argv[1])
    except (ValueError, ZeroDivisionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(int(value) if value == int(value) else value)
"""

TODO = """
import sqlite3


class TodoStore:
    def __init__(self, path):
        self.db = sqlite3.connect(path)
        self.db.execute("create table if not exists todo (id integer primary key, title text, done int)")

    def add(self, title):
        if not title.strip():
            raise ValueError("empty title")
        with self.db:
            return self.db.execute("insert into todo (title, done) values (?, 0)", (title,)).lastrowid

    def list(self, done=None):
        rows = self.db.execute("select id, title, done from todo order by id").fetchall()
        items = [{"id": i, "title": t, "done": bool(d)} for i, t, d in rows]
        return [x for x in items if done is None or x["done"] == done]

    def _change(self, sql, item_id):
        with self.db:
            if self.db.execute(sql, (item_id,)).rowcount == 0:
                raise KeyError(item_id)

    def complete(self, item_id):
        self._change("update todo set done = 1 where id = ?", item_id)

    def delete(self, item_id):
        self._change("delete from todo where id = ?", item_id)

    def close(self):
        self.db.close()
"""

LOGS = """
import json
import re
import sys
from collections import Counter

LINE = re.compile(r"^\\S+T\\S+ (DEBUG|INFO|WARNING|ERROR) (\\w+): .*$")


def analyse(lines):
    total = malformed = 0
    levels, sources = Counter(), Counter()
    for line in lines:
        if not line.strip():
            continue
        m = LINE.match(line.strip())
        if not m:
            malformed += 1
            continue
        total += 1
        levels[m.group(1)] += 1
        sources[m.group(2)] += 1
    top = sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {"total": total, "malformed": malformed, "by_level": dict(levels), "top_sources": [list(t) for t in top]}


if __name__ == "__main__":
    try:
        with open(sys.argv[1]) as f:
            print(json.dumps(analyse(f)))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
"""

SOLUTIONS = {"req/calculator": CALC, "req/todo_api": TODO, "req/log_analyser": LOGS}


def _check(problem: Problem, code: str, tmp_path: Path) -> bool:
    ws = tmp_path / problem.id.replace("/", "_")
    ws.mkdir(parents=True)
    (ws / problem.target).write_text(code)
    passed, _ = run_hidden_tests(ws, problem.hidden_test)
    return passed


@pytest.mark.parametrize("problem", requirement_problems(), ids=lambda p: p.id)
def test_hidden_tests_accept_a_correct_solution_and_reject_a_stub(
    problem: Problem, tmp_path: Path
) -> None:
    assert _check(problem, SOLUTIONS[problem.id], tmp_path / "good")
    assert not _check(problem, "def nothing():\n    pass\n", tmp_path / "bad")


def test_single_shot_answers_are_split_into_files() -> None:
    problem = Problem("x", "t", {}, "", "main.py", prompt_prefix="def f(x):\n    ", entry_point="f")
    files = parse_single_shot(
        "```python\n# file: a.py\nA = 1\n```\n```python\nreturn x\n```", problem
    )
    assert files == {"a.py": "A = 1\n", "main.py": "def f(x):\n    return x\n"}


SMALL_FIXES = {
    "small/create_file": {"test.txt": "hello world\n"},
    "small/add_function": {"mathutil.py": MATHUTIL + "\n\ndef double(x):\n    return x * 2\n"},
    "small/rename_symbol": {
        "shop.py": SHOP.replace("get_total", "compute_total"),
        "report.py": REPORT.replace("get_total", "compute_total"),
    },
    "small/fix_off_by_one": {"window.py": WINDOW.replace("-n - 1", "-n")},
}


@pytest.mark.parametrize("problem", small_problems(), ids=lambda p: p.id)
def test_small_tasks_fail_as_given_and_pass_when_done(problem: Problem, tmp_path: Path) -> None:
    ws = workspace(tmp_path / "given", problem)
    assert not run_hidden_tests(ws, problem.hidden_test)[0]
    ws = workspace(tmp_path / "done", problem)
    for name, text in SMALL_FIXES[problem.id].items():
        (ws / name).write_text(text)
    assert run_hidden_tests(ws, problem.hidden_test)[0]


def test_constrained_single_shot_answers_and_pass_at_k() -> None:
    answer = '{"files": [{"path": "a.py", "content": "A = 1\\n"}]}'
    assert parse_json_files(answer) == {"a.py": "A = 1\n"}
    assert parse_json_files('{"files": [{"path": "a.py"') == {}
    # 10 samples, 3 right: pass@1 is the rate, pass@10 is certain, pass@5 in between.
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 10) == 1.0 and 0.3 < pass_at_k(10, 3, 5) < 1.0
    assert pass_at_k(4, 0, 2) == 0.0


def test_the_summary_counts_valid_actions_and_pass_at_k_per_tier() -> None:
    outcomes = {
        "small/a": [Outcome(True, 1.0, 10, 2, 3, 3), Outcome(False, 1.0, 10, 1, 3, 2)],
        "HumanEval/0": [Outcome(False, 2.0, 20, 0, 4, 1), Outcome(False, 2.0, 20, 0, 4, 0)],
    }
    summary = summarise(outcomes, {"small/a": "small", "HumanEval/0": "humaneval"})
    assert summary["pass_at_1"] == 0.25 and summary["pass_at_2"] == 0.5
    assert summary["by_tier"] == {"small": 0.5, "humaneval": 0.0}
    assert summary["valid_action_rate"] == round(6 / 14, 3) and summary["tool_calls"] == 3
    assert summary["passed"] == ["small/a"] and summary["tokens"] == 60


def test_an_agent_run_is_measured_and_its_folder_kept_with_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atoll.agents import CrewSettings, ScriptedChatModel
    from tests.agents.scripts import action

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    script = [
        "no action here",
        action("write_file", path="test.txt", content="hello world\n"),
        action("finish", summary="wrote it"),
    ]
    problem = small_problems()[0]
    settings = CrewSettings(roles=("solo",))
    outcome = agent_run(ScriptedChatModel(script), problem, tmp_path / "bench", settings)
    assert outcome.passed and (outcome.action_turns, outcome.valid_actions) == (3, 2)
    assert outcome.tool_calls == 2 and outcome.per_role["solo"]["valid_actions"] == 2
    kept = tmp_path / "bench" / "runs" / "small_create_file"
    assert (kept / "transcript.jsonl").is_file()
    assert not any((tmp_path / "cache" / "atoll" / "runs").rglob("transcript.jsonl"))
