"""Fixtures shared by every test package: isolation from the user's setup, sample workspaces."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "workspace"
# CI sets this: a test that needs the bubblewrap sandbox fails instead of skipping.
REQUIRE_SANDBOX = os.environ.get("ATOLL_TEST_REQUIRE_SANDBOX") == "1"


def sandbox_or_skip() -> None:
    """Skip (or, in CI, fail) a test that needs commands to run in bubblewrap."""
    from atoll.agents.sandbox import SandboxPolicy, probe

    status = probe(SandboxPolicy())
    if status.available:
        return
    if REQUIRE_SANDBOX:
        pytest.fail(f"the sandbox is required here: {status.message}")
    pytest.skip(f"no sandbox: {status.message}")


@pytest.fixture
def sandbox_available() -> None:
    sandbox_or_skip()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """No test reads the developer's own config or ATOLL_* variables, or a model hub."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("ATOLL_"):
            del os.environ[name]
    os.environ["ATOLL_USER_CONFIG"] = str(home / "config.toml")
    # Crew runs live in the user's cache: each test gets its own.
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def sample_workspace(tmp_path: Path) -> Path:
    """A fresh copy of the bundled mixed Python/Rust/QML workspace."""
    target = tmp_path / "ws"
    shutil.copytree(SAMPLE, target)
    return target
