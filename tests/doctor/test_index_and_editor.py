"""Index freshness from file times; the editor-side checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atoll.config import load_config
from atoll.doctor import DoctorContext, Status, run_checks
from atoll.doctor.editor import is_loopback, lsp_transport
from atoll.doctor.index_state import index_freshness


def ctx(root: Path) -> DoctorContext:
    return DoctorContext(root, load_config(root))


def test_index_missing_stale_and_fresh(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    [missing] = run_checks(ctx(tmp_path), [index_freshness])
    assert missing.status is Status.WARN and "no index" in missing.detail and not missing.required
    db = tmp_path / ".atoll" / "index.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"")
    os.utime(db, (1_000, 1_000))
    [stale] = run_checks(ctx(tmp_path), [index_freshness])
    assert (
        stale.status is Status.WARN
        and "1 file(s) changed" in stale.detail
        and "a.py" in stale.detail
    )
    os.utime(db)
    os.utime(tmp_path / "a.py", (1_000, 1_000))
    [fresh] = run_checks(ctx(tmp_path), [index_freshness])
    assert fresh.status is Status.OK


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_tcp_host_off_loopback_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [ok] = run_checks(ctx(tmp_path), [lsp_transport])
    assert ok.status is Status.OK and "127.0.0.1 only" in ok.detail
    monkeypatch.setenv("ATOLL_SERVER_TCP_HOST", "0.0.0.0")
    [warn] = run_checks(ctx(tmp_path), [lsp_transport])
    assert warn.status is Status.WARN and "env ATOLL_SERVER_TCP_HOST" in warn.detail
