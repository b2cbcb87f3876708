"""A real ``llama_cpp.server`` on the demo GGUF, for the doctor's endpoint tests."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.conftest import launch_llama_server, stop_process

MODEL_ALIAS = "demo-coder"


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            stop_process(self.process)


@contextlib.contextmanager
def llama_server(api_key: str = "", chat_format: str = "") -> Iterator[LlamaServer]:
    """Start the server on a free loopback port and wait until it lists its model."""
    extra = ["--model_alias", MODEL_ALIAS, "--n_threads", "1"]
    if chat_format:
        extra += ["--chat_format", chat_format]
    with tempfile.TemporaryDirectory() as tmp:
        # A file, not a pipe: llama.cpp's load log would fill a pipe and stall the server.
        process, base = launch_llama_server(
            Path(tmp) / "llama.log", *extra, n_ctx=512, api_key=api_key
        )
        server = LlamaServer(base, api_key, process)
        try:
            yield server
        finally:
            server.stop()
