"""Shell commands in the staged workspace: a time limit, capped output, no network if possible.

Output keeps its head *and* its tail when capped: the error that matters is usually at
the end. A command that outlives its timeout is killed with its whole process group,
and what it printed so far is kept.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DEFAULT_OUTPUT_CHARS = 8000


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None: killed at the timeout
    output: str
    timed_out: bool
    seconds: float

    def for_model(self) -> str:
        status = (
            "timed out and was killed" if self.timed_out else f"exited with code {self.exit_code}"
        )
        return f"$ {self.command}\n[{status} after {self.seconds:.1f}s]\n{self.output}"


def cap_output(text: str, limit: int = DEFAULT_OUTPUT_CHARS) -> str:
    """At most ``limit`` characters: a quarter from the head, the rest from the tail."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [{cut} characters cut] ...\n{text[-tail:]}"


@functools.cache
def _no_network_prefix() -> tuple[str, ...]:
    """``unshare -rn`` (a private network namespace) where the platform allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    try:
        probe = subprocess.run(
            [unshare, "-rn", "true"], capture_output=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return (unshare, "-rn") if probe.returncode == 0 else ()


def _environment(cwd: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(cwd), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    # Proxies would be a way out; there is nothing to reach anyway.
    return env


def _read_head_and_tail(sink: IO[bytes], limit: int) -> str:
    size = sink.seek(0, os.SEEK_END)
    window = 4 * limit
    sink.seek(0)
    if size <= 2 * window:
        return sink.read().decode("utf-8", errors="replace")
    head = sink.read(window)
    sink.seek(size - window)
    tail = sink.read()
    cut = size - len(head) - len(tail)
    return (
        head.decode("utf-8", errors="replace")
        + f"\n... [{cut} bytes cut] ...\n"
        + tail.decode("utf-8", errors="replace")
    )


def run_command(
    command: str,
    cwd: Path,
    *,
    timeout_s: float,
    limit: int = DEFAULT_OUTPUT_CHARS,
    isolate_network: bool = True,
) -> CommandResult:
    """Run ``command`` with bash in ``cwd``; stdout and stderr interleaved, capped."""
    prefix = _no_network_prefix() if isolate_network else ()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        proc = subprocess.Popen(
            [*prefix, "bash", "-c", command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=_environment(cwd),
            start_new_session=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        output = _read_head_and_tail(sink, limit)
    return CommandResult(
        command=command,
        exit_code=None if timed_out else proc.returncode,
        output=cap_output(output, limit),
        timed_out=timed_out,
        seconds=time.perf_counter() - started,
    )
