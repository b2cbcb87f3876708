"""The sandbox, the one door for the crew's commands: what a command can and cannot do.

These run real commands in real bubblewrap (CI installs it); each checks the effect on
the files, not the sandbox's arguments.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.agents.sandbox import Sandbox, SandboxPolicy, SandboxUnavailable, cap_output, probe

pytestmark = pytest.mark.usefixtures("sandbox_available")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "here.txt").write_text("staged\n")
    return folder


def run(work: Path, command: str, timeout_s: float = 20, **policy: object) -> str:
    sandbox = Sandbox(dataclasses.replace(SandboxPolicy(), **policy), work)  # type: ignore[arg-type]
    return sandbox.run(command, timeout_s=timeout_s).for_model()


def test_a_hanging_command_is_killed_at_its_timeout_and_its_output_kept(work: Path) -> None:
    result = Sandbox(SandboxPolicy(), work).run("echo started; sleep 30; echo never", timeout_s=1)
    assert result.timed_out and result.exit_code is None
    assert "started" in result.output and "never" not in result.output
    assert "timed out" in result.for_model()


def test_commands_run_in_the_staged_folder_and_write_only_there(work: Path, tmp_path: Path) -> None:
    out = run(work, "pwd; cat here.txt; echo new > made.txt; echo x >> ../../outside.txt")
    assert "/workspace" in out and "staged" in out
    assert (work / "made.txt").read_text() == "new\n"
    assert not (tmp_path / "outside.txt").exists()
    assert "Read-only file system" in out


def test_children_and_detached_processes_die_with_the_command(work: Path) -> None:
    run(work, "(setsid nohup bash -c 'sleep 1; echo late > late.txt' >/dev/null 2>&1 &); echo ok")
    run(work, "(sleep 1; touch late2.txt) & sleep 30", timeout_s=0.3)
    time.sleep(1.8)  # a survivor would have written by now
    assert not (work / "late.txt").exists() and not (work / "late2.txt").exists()


def test_no_user_home_no_root_no_machine_accounts_no_environment(
    work: Path, tmp_path: Path
) -> None:
    os.environ["ATOLL_SECRET_TOKEN"] = "sk-do-not-leak"
    out = run(work, f"ls -a ~; ls /root; cat /etc/passwd; cat /etc/shadow; env; ls {tmp_path}")
    assert "sk-do-not-leak" not in out
    assert "/root': No such file" in out and "/etc/shadow: No such file" in out
    assert "daemon:" not in out  # the machine's accounts are not in the sandbox's passwd
    assert f"{tmp_path}': No such file" in out


def test_no_network_not_even_the_hosts_loopback(work: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        out = run(work, f"echo hi > /dev/tcp/127.0.0.1/{port} && echo CONN''ECTED")
    assert "CONNECTED" not in out and "Connection refused" in out


def test_a_fork_bomb_stops_at_the_process_limit(work: Path) -> None:
    out = run(work, "for i in $(seq 200); do sleep 5 & done; wait", timeout_s=3, processes=30)
    assert "Resource temporarily unavailable" in out


def test_a_file_cannot_grow_past_the_file_size_limit(work: Path) -> None:
    run(work, "head -c 5000000 /dev/zero > big.bin", file_mb=1)
    assert (work / "big.bin").stat().st_size <= 1024 * 1024


def test_endless_output_is_capped_at_head_and_tail(work: Path) -> None:
    result = Sandbox(SandboxPolicy(), work).run(
        "seq 1 2000000; echo 'Traceback: boom' >&2; exit 3", timeout_s=30, limit=2000
    )
    assert result.exit_code == 3
    assert result.output.startswith("1\n2\n")
    assert result.output.rstrip().endswith("Traceback: boom")
    assert "cut" in result.output and len(result.output) < 2200


def test_git_stays_in_the_staged_copy(work: Path) -> None:
    out = run(work, "git init -q . && git status --short; cd / && git status 2>&1")
    assert "here.txt" in out and "not a git repository" in out


def test_read_only_binds_are_readable_not_writable(work: Path, tmp_path: Path) -> None:
    tool = tmp_path / "toolchain"
    (tool / "bin").mkdir(parents=True)
    (tool / "bin" / "hello").write_text("#!/bin/sh\necho hello from the toolchain\n")
    (tool / "bin" / "hello").chmod(0o755)
    out = run(
        work,
        "hello; touch $HOME/../x; touch /opt/tc/bin/new",
        binds=(f"{tool}:/opt/tc",),
        path=("/opt/tc/bin",),
    )
    assert "hello from the toolchain" in out
    assert not (tool / "bin" / "new").exists()


def test_a_missing_bubblewrap_turns_commands_off_with_the_fix(work: Path) -> None:
    policy = SandboxPolicy(bwrap="bwrap-not-installed-here")
    status = probe(policy)
    assert not status.available and "apt-get install bubblewrap" in status.message
    with pytest.raises(SandboxUnavailable):
        Sandbox(policy, work).run("touch x", timeout_s=5)
    assert not (work / "x").exists()


def test_mode_off_runs_nothing(work: Path) -> None:
    status = probe(SandboxPolicy(mode="off"))
    assert not status.available and "off" in status.message


@given(text=st.text(max_size=3000), limit=st.integers(min_value=40, max_value=1000))
def test_cap_output_keeps_head_and_tail(text: str, limit: int) -> None:
    out = cap_output(text, limit)
    if len(text) <= limit:
        assert out == text
    else:
        assert out.startswith(text[: limit // 4]) and out.endswith(text[-(limit - limit // 4) :])
