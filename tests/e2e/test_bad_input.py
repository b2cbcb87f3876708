"""Malformed and hostile requests get an error or an empty answer; the server keeps serving.

Hypothesis generates the requests; a raw JSON-RPC client sends them, since no typed
client would send a malformed message. One server per module keeps this fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLE
from tests.e2e.rawclient import RawLspClient

# Requests an editor sends with a document and a position.
POSITIONAL = [
    "textDocument/hover",
    "textDocument/inlineCompletion",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/codeAction",
    "textDocument/documentSymbol",
]
OTHER = ["workspace/symbol", "workspace/executeCommand", "atoll/unknownMethod", "$/unknown"]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.generate],  # a failure here is read from the log, not shrunk for minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawLspClient, Path]]:
    workspace = tmp_path_factory.mktemp("bad") / "ws"
    shutil.copytree(SAMPLE, workspace)
    (workspace / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (workspace / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "ATOLL_USER_CONFIG": str(home / "c.toml"),
        "ATOLL_INDEXING_EMBEDDINGS": "0",
        "ATOLL_COMPLETION_WARMUP": "0",
        "HF_HUB_OFFLINE": "1",
    }
    client = RawLspClient(env)
    reply = client.initialize(workspace, {"textDocument": {"inlineCompletion": {}}})
    assert "capabilities" in reply["result"]
    yield client, workspace
    client.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(method=st.sampled_from(POSITIONAL + OTHER), params=json_values)
def test_garbage_params(server: tuple[RawLspClient, Path], method: str, params: Any) -> None:
    client, _ = server
    reply = client.request(method, params)
    assert "result" in reply or "error" in reply
    assert client.alive()


def test_unparsable_messages(server: tuple[RawLspClient, Path]) -> None:
    client, _ = server
    client.write_bytes(b"{not json")
    client.write_bytes(b'{"jsonrpc": "2.0", "id": 99999, "method": 5}')
    client.write_bytes(b'["a batch?"]')
    client.write_bytes('"\udcff"'.encode("utf-8", "surrogatepass"))
    assert client.alive()


def uris(workspace: Path) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            (workspace / "inventory" / "models.py").as_uri(),
            (workspace / "blob.bin").as_uri(),
            (workspace / "latin1.py").as_uri(),
            (workspace / "missing.py").as_uri(),
            "untitled:Untitled-1",
            "https://example.invalid/x.py",
            "file:///etc/../../nope",
            "not a uri",
        ]
    )


@FUZZ
@given(data=st.data())
def test_well_formed_requests_with_bad_documents_and_positions(
    server: tuple[RawLspClient, Path], data: st.DataObject
) -> None:
    client, workspace = server
    method = data.draw(st.sampled_from(POSITIONAL))
    uri = data.draw(uris(workspace))
    line = data.draw(st.integers(min_value=-2, max_value=10_000))
    character = data.draw(st.integers(min_value=-2, max_value=2**31 - 1))
    params: dict[str, Any] = {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 1, "diagnostics": []},
        "range": {
            "start": {"line": max(line, 0), "character": 0},
            "end": {"line": max(line, 0), "character": 1},
        },
    }
    reply = client.request(method, params)
    assert "result" in reply or "error" in reply
    assert client.alive()


def test_rapid_open_change_close_of_odd_documents(server: tuple[RawLspClient, Path]) -> None:
    client, workspace = server
    for i, (uri, text) in enumerate(
        [
            ("untitled:Untitled-1", "print('hi')\n"),
            ((workspace / "huge.py").as_uri(), "x" * 200_000),
            ((workspace / "nul.py").as_uri(), "a\x00b\n"),
            ((workspace / "emoji.py").as_uri(), "s = '😀😀'\n"),
        ]
    ):
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": i, "text": text}},
        )
        # A change whose range lies past the end of the document.
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": i + 1},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 99, "character": 0},
                            "end": {"line": 99, "character": 5},
                        },
                        "text": "z",
                    }
                ],
            },
        )
        reply = client.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}},
        )
        assert "result" in reply or "error" in reply
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.alive()
