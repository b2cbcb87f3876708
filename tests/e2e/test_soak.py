"""The short soak: a few hundred edits with interleaved requests and cancellations.

Checks correctness, not time: the server's buffer equals ours at the end, it still
answers, and no request failed other than by cancellation.
"""

from __future__ import annotations

from pathlib import Path

from atoll.bench.soak import soak


async def test_short_soak_keeps_buffer_and_server_intact(sample_workspace: Path) -> None:
    report = await soak(
        sample_workspace,
        edits=400,
        request_every=8,
        env={"ATOLL_INDEXING_EMBEDDINGS": "0"},
    )
    summary = report.summary()
    assert report.alive
    assert report.text_matches, "the server's buffer drifted from the client's"
    assert summary["unexpected_errors"] == {}, summary["error_samples"]
    assert report.edits == 400
    # Every kind of request an editor sends was advertised and exercised.
    assert set(report.offered) == {
        "textDocument/inlineCompletion",
        "textDocument/hover",
        "textDocument/documentSymbol",
        "workspace/symbol",
        "textDocument/codeAction",
    }
    assert set(report.requests) == set(report.offered)
    assert sum(report.requests.values()) == (50 if report.offered else 0)
