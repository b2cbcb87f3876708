"""The crew benchmark's hidden tests accept a correct solution and reject a wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest

from atoll.bench.crew import Problem, parse_single_shot, requirement_problems, run_hidden_tests

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
