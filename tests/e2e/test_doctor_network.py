"""The language server binds nothing to the network by default; `--tcp` binds loopback.

Read from the kernel's socket table (/proc/net/tcp*), matched to the server process's
own sockets: what is actually listening, not what the code meant to do.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, stop_process

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
LISTEN = "0A"


def listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and fields[9] in inodes:
                addr, port = fields[1].split(":")
                raw = bytes.fromhex(addr)
                # The kernel prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET if width == 8 else socket.AF_INET6
                found.append((socket.inet_ntop(family, words), int(port, 16)))
    return found


def start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ATOLL_INDEXING_ENABLED": "0", "ATOLL_COMPLETION_WARMUP": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "atoll.cli", "serve", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def wait_listening(proc: subprocess.Popen[bytes], port: int) -> list[tuple[str, int]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = listening(proc.pid)
        if any(p == port for _, p in found):
            return found
        assert proc.poll() is None, "atoll serve exited"
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_stdio_server_binds_nothing() -> None:
    proc = start([])
    try:
        time.sleep(1.5)  # past start-up, where a stray listener would have been opened
        assert proc.poll() is None
        assert listening(proc.pid) == []
    finally:
        stop_process(proc)


def test_tcp_binds_loopback_unless_told_otherwise() -> None:
    port = free_port()
    proc = start(["--tcp", str(port)])
    try:
        assert wait_listening(proc, port) == [("127.0.0.1", port)]
    finally:
        stop_process(proc)


def test_tcp_binds_the_host_it_is_told() -> None:
    port = free_port()
    proc = start(["--tcp", f"127.0.0.2:{port}"])
    try:
        assert wait_listening(proc, port) == [("127.0.0.2", port)]
    finally:
        stop_process(proc)
