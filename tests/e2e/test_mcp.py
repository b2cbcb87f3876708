"""``atoll mcp`` end to end: the official SDK's client starts it on stdio and calls each tool.

``delegate`` runs the crew with a scripted model (selected through the environment, as a
client's ``env`` would) and must answer with the diff while the workspace stays
byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.agents.scripts import HAPPY_PATH

pytestmark = pytest.mark.slow


def tree_hash(root: Path) -> str:
    """Every file's path and bytes under ``root`` (the index folder aside)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".atoll" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def server(workspace: Path, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "atoll.cli", "mcp", "-w", str(workspace)],
        env={
            "ATOLL_INDEXING_EMBEDDINGS": "0",
            "ATOLL_USER_CONFIG": os.environ["ATOLL_USER_CONFIG"],
            "HF_HUB_OFFLINE": "1",
            **env,
        },
    )


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    data = result.structured_content
    return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data


async def test_index_tools_answer_from_the_workspace(sample_workspace: Path) -> None:
    async with Client(server(sample_workspace)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"search_code", "find_symbols", "outline", "read_definition", "delegate"}  # fmt: skip
        assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())

        symbols = structured(await client.call_tool("find_symbols", {"query": "fmtCents"}))
        assert symbols[0]["name"] == "format_cents"
        assert symbols[0]["path"] == "inventory/report.py" and symbols[0]["line"] == 6

        hits = structured(await client.call_tool("search_code", {"query": "format cents dollars", "k": 3}))  # fmt: skip
        assert any(h["path"] == "inventory/report.py" and "def format_cents" in h["text"] for h in hits)  # fmt: skip
        assert all(h["start_line"] >= 1 for h in hits)

        outline = await client.call_tool("outline", {"budget": 300})
        text = outline.content[0].text
        assert "inventory/report.py" in text and "format_cents" in text

        found = structured(await client.call_tool("read_definition", {"name": "Inventory.total_value"}))  # fmt: skip
        assert len(found) == 1 and found[0]["path"] == "inventory/models.py"
        assert found[0]["source"].lstrip().startswith("def total_value(self)")
        assert found[0]["start_line"] <= found[0]["line"] <= found[0]["end_line"]

        none = structured(await client.call_tool("read_definition", {"name": "no_such_thing"}))
        assert none == []


async def test_delegate_returns_the_diff_and_never_writes(
    sample_workspace: Path, tmp_path: Path
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"answers": HAPPY_PATH}))
    before = tree_hash(sample_workspace)
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    env = {"ATOLL_AGENTS_ENDPOINT_BASE_URL": f"scripted:{script}"}
    async with Client(server(sample_workspace, **env)) as client:
        result = await client.call_tool(
            "delegate", {"task": "negative amounts and a CSV export"}, progress_callback=on_progress
        )
    assert not result.is_error, result.content
    text = result.content[0].text
    assert text.startswith("status: done")
    assert "modified inventory/report.py" in text and "added inventory/export.py" in text
    assert "nothing was applied" in text
    assert '+    sign = "-" if cents < 0 else ""' in text
    assert "+++ b/inventory/export.py" in text
    assert tree_hash(sample_workspace) == before  # the user's files did not change
    assert not (sample_workspace / "inventory" / "export.py").exists()
    assert any(m.startswith("architect") for m in progress) and any("coder" in m for m in progress)


async def test_delegate_without_a_model_says_so(sample_workspace: Path) -> None:
    env = {"ATOLL_AGENTS_ENDPOINT_BASE_URL": "http://127.0.0.1:9/v1"}
    async with Client(server(sample_workspace, **env)) as client:
        result = await client.call_tool("delegate", {"task": "anything"})
    text = result.content[0].text
    assert text.startswith("status: failed (the crew cannot start:"), text
