"""Commands in the staged copy: timeouts kill them, output keeps its head and tail."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from atoll.agents.commands import cap_output, run_command


def test_a_hanging_command_is_killed_at_its_timeout_and_its_output_kept(tmp_path: Path) -> None:
    result = run_command("echo started; sleep 30; echo never", tmp_path, timeout_s=1.0)
    assert result.timed_out and result.exit_code is None
    assert "started" in result.output and "never" not in result.output
    assert "timed out" in result.for_model()


def test_child_processes_die_with_the_command(tmp_path: Path) -> None:
    result = run_command("(sleep 1; touch late) & sleep 30", tmp_path, timeout_s=0.3)
    assert result.timed_out
    time.sleep(1.5)  # a surviving child would have written the file by now
    assert not (tmp_path / "late").exists()


def test_long_output_keeps_the_error_at_the_end(tmp_path: Path) -> None:
    result = run_command(
        "seq 1 20000; echo 'Traceback: boom' >&2; exit 3", tmp_path, timeout_s=20, limit=2000
    )
    assert result.exit_code == 3
    assert result.output.startswith("1\n2\n")
    assert result.output.rstrip().endswith("Traceback: boom")
    assert "characters cut" in result.output and len(result.output) < 2200


def test_commands_run_in_the_staged_folder(tmp_path: Path) -> None:
    (tmp_path / "here.txt").write_text("")
    assert "here.txt" in run_command("ls", tmp_path, timeout_s=10).output


@given(text=st.text(max_size=3000), limit=st.integers(min_value=40, max_value=1000))
def test_cap_output_keeps_head_and_tail(text: str, limit: int) -> None:
    out = cap_output(text, limit)
    if len(text) <= limit:
        assert out == text
    else:
        assert out.startswith(text[: limit // 4]) and out.endswith(text[-(limit - limit // 4) :])
