"""A scripted OpenAI-compatible server with the faults real servers have.

Modes (``FaultyServer.mode``, switchable while it runs):

- ``ok``: well-formed streamed answers (``/v1/completions``, ``/v1/chat/completions``,
  and llama.cpp's ``/infill``), one chunk per word of ``answer``.
- ``stream_forever``: headers, then an SSE keep-alive comment every 50 ms until the
  client goes away (a stuck server: bytes flow, so no read timeout ever fires).
- ``malformed``: status 200 with a body that is not JSON (a proxy's error page, a
  half-written answer).

``owned_by`` is what ``/v1/models`` says about the model: ``llamacpp`` is how llama.cpp's
own server introduces itself. Every request body is kept in ``requests``; ``open_streams``
counts streams the client has not abandoned yet. Used by ``atoll bench limits`` and the
tests of the OpenAI-compatible backend.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FaultyServer:
    mode: str = "ok"
    answer: str = "return a + b"
    owned_by: str = "faulty"
    base: str = ""
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    open_streams: int = 0
    abandoned_after_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"{self.base}/v1"

    def hits(self, path: str = "") -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p.startswith(path or "/"))


class _Handler(BaseHTTPRequestHandler):
    state: FaultyServer  # set per server by _handler()
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            model = {"id": "faulty-coder", "object": "model", "owned_by": self.state.owned_by}
            self._json(200, {"object": "list", "data": [model]})
        elif self.path == "/health":
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            body = {}
        with self.state.lock:
            self.state.requests.append((self.path, body))
        if self.state.mode == "malformed":
            self._raw(200, b"<html>upstream error</html>{", "application/json")
        elif self.state.mode == "stream_forever":
            self._forever()
        elif body.get("stream"):
            self._stream(self.path)
        else:
            self._json(200, _whole(self.path, self.state.answer))

    def _json(self, status: int, payload: Any) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse_headers(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True

    def _stream(self, path: str) -> None:
        self._sse_headers()
        words = self.state.answer.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            last = i == len(words) - 1
            self.wfile.write(b"data: " + json.dumps(_chunk(path, piece, last)).encode() + b"\n\n")
        if not path.startswith("/infill"):
            self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _forever(self) -> None:
        self._sse_headers()
        with self.state.lock:
            self.state.open_streams += 1
        started = time.monotonic()
        try:
            while True:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client went away: what a stuck stream should end with
        finally:
            with self.state.lock:
                self.state.open_streams -= 1
                self.state.abandoned_after_s.append(time.monotonic() - started)

    def log_message(self, *args: Any) -> None:
        pass


def _handler(state: FaultyServer) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"state": state})


def _chunk(path: str, text: str, last: bool) -> dict[str, Any]:
    if path.startswith("/infill"):
        return {"content": text, "stop": last, "tokens_cached": 0}
    if "chat" in path:
        delta = {"index": 0, "delta": {"content": text}, "finish_reason": "stop" if last else None}
        return {"id": "c", "object": "chat.completion.chunk", "model": "faulty", "choices": [delta]}
    choice = {"index": 0, "text": text, "finish_reason": "stop" if last else None}
    return {"id": "c", "object": "text_completion", "model": "faulty", "choices": [choice]}


def _whole(path: str, text: str) -> dict[str, Any]:
    if path.startswith("/infill"):
        return {"content": text, "stop": True, "tokens_cached": 0}
    if "chat" in path:
        message = {"role": "assistant", "content": text}
        return {"id": "c", "object": "chat.completion", "model": "faulty",
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip
    return {"id": "c", "object": "text_completion", "model": "faulty",
            "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]}  # fmt: skip


@contextmanager
def faulty_server(mode: str = "ok", **options: Any) -> Iterator[FaultyServer]:
    """Serve on a free loopback port until the block ends."""
    state = FaultyServer(mode=mode, **options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="faulty-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
