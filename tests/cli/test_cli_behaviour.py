"""The CLI says what happened: positions, slow vs down, the time limit, a missing model, -w."""

from __future__ import annotations

import io
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from atoll.cli.main import build_app
from atoll.cli.progress import PhaseProgress
from tests.doctor.fakeserver import scripted_server

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(build_app(), list(args), catch_exceptions=False)


def said(out: Any) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(out.output.split())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "calc.py"
    path.write_text("def add(a, b):\n    return a\n")
    return path


@pytest.mark.parametrize("where", ["0:0", "1:0", "0:1", "-1:3"])
def test_positions_count_from_one(source: Path, where: str) -> None:
    out = invoke("complete", f"{source}:{where}")
    assert out.exit_code == 2
    assert "count from 1" in said(out) and "past the end" not in said(out)


def test_a_position_past_the_end_says_so(source: Path) -> None:
    out = invoke("complete", f"{source}:9:1")
    assert out.exit_code == 2 and "line 9 is past the end of the file (2 lines)" in said(out)


def completion_endpoint(url: str) -> list[str]:
    return [
        "--set", f"completion.endpoint.base_url={url}/v1",
        "--set", "completion.endpoint.model=m",
        "--set", "completion.time_budget_ms=400",
    ]  # fmt: skip


def test_a_down_endpoint_is_called_down(source: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    out = invoke("complete", f"{source}:2:13", *completion_endpoint(url))
    assert out.exit_code == 1
    text = said(out)
    assert f"{url}/v1 is down: nothing accepts connections there" in text
    assert "[dim]" not in out.output and "(no suggestion)" not in out.output


def test_a_slow_endpoint_is_called_slow_not_down(source: Path) -> None:
    def slow(method: str, path: str, body: Any) -> tuple[int, Any]:
        time.sleep(3)
        return 500, {}

    with scripted_server(slow) as url:
        started = time.monotonic()
        out = invoke("complete", f"{source}:2:13", *completion_endpoint(url), "--json")
        took = time.monotonic() - started
    assert out.exit_code == 1
    data = json.loads(out.stdout)
    assert data["source"] == "unavailable"
    assert f"{url}/v1 is slow: it accepts connections but did not answer" in data["note"]
    assert "completion.time_budget_ms = 400 ms" in data["note"]
    assert "down" not in data["note"]
    assert took < 30  # the time limit, not the 60 s endpoint timeout, bounded the wait


def test_the_time_limit_cutting_a_suggestion_is_reported(source: Path) -> None:
    """A server that streams one token every 0.3 s: the 400 ms limit cuts the suggestion."""

    import http.server
    import threading

    class Stream(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for word in [" +", " b", " *", " 2"]:
                chunk = {"id": "1", "object": "text_completion", "created": 0, "model": "m",
                         "choices": [{"index": 0, "text": word, "finish_reason": None}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.3)
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        out = invoke("complete", f"{source}:2:13", *completion_endpoint(url), "--json")
    finally:
        server.shutdown()
        server.server_close()
    data = json.loads(out.stdout)
    assert out.exit_code == 0, out.output
    assert data["finish"] == "deadline" and data["text"].startswith(" +")
    assert (
        "time limit (completion.time_budget_ms = 400 ms) cut the suggestion short" in data["note"]
    )


def test_ask_with_an_unreachable_endpoint_fails_at_once(sample_workspace: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    started = time.monotonic()
    out = invoke("ask", "what is this?", "-w", str(sample_workspace), "--endpoint", url)
    assert out.exit_code == 2
    assert time.monotonic() - started < 30
    assert "the crew needs a model" in said(out)


def test_index_and_outline_take_the_workspace_either_way(
    sample_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOLL_INDEXING_EMBEDDINGS", "0")
    monkeypatch.chdir(tmp_path)
    by_option = invoke("index", "-w", str(sample_workspace), "--json")
    assert by_option.exit_code == 0, by_option.output
    assert json.loads(by_option.stdout)["workspace"] == str(sample_workspace)
    assert invoke("index", str(sample_workspace), "--json").exit_code == 0
    both = invoke("index", str(sample_workspace), "-w", str(tmp_path))
    assert both.exit_code == 2 and "two workspaces given" in said(both)
    outline = invoke("outline", "-w", str(sample_workspace), "--budget", "200")
    assert outline.exit_code == 0 and "report.py" in outline.stdout
    focused = invoke("outline", str(sample_workspace / "inventory" / "report.py"), "-w", str(sample_workspace))  # fmt: skip
    assert focused.exit_code == 0 and "format_cents" in focused.stdout
    missing = invoke("symbols", "x", "-w", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "is not a folder" in said(missing)


def test_a_full_bar_is_followed_by_what_runs_next() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    after = {"parsing": "embedding new chunks", "embedding": "writing vectors"}
    with PhaseProgress(console, after=after) as bar:
        bar(0, 2, "")
        bar(2, 2, "b.py")
        bar._bar.refresh()
        shown = out.getvalue()
        assert "embedding new chunks" in shown and "2/2" in shown
        bar(5, 10, "", phase="embedding")
        bar._bar.refresh()
        assert "5/10" in out.getvalue() and "chunks" in out.getvalue()
    quiet = io.StringIO()
    with PhaseProgress(Console(file=quiet, force_terminal=True), enabled=False) as bar:
        bar(1, 1, "a.py")
    assert quiet.getvalue() == ""
