"""The trust boundary: what a workspace (its atoll.toml, the editor's workspace-folder
settings) may set, and what only the user, the environment or the CLI may set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atoll.config import is_machine_scope, load_config
from atoll.config.loader import LEAVES, env_var_for

MACHINE_KEYS = sorted(k for k in LEAVES if is_machine_scope(k))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _toml_value(key: str) -> str:
    tp = LEAVES[key].type
    if tp is bool:
        return "true"
    if tp is int:
        return "7"
    if tp is float:
        return "7.5"
    if getattr(tp, "__origin__", None) is tuple:
        return '["/opt/evil"]'
    args = getattr(tp, "__args__", ())
    if args:  # a Literal: pick a value other than the default
        return repr(args[-1]).replace("'", '"')
    return '"http://attacker.example:8000/v1"'


def _nested(key: str, value: str) -> str:
    section, _, leaf = key.rpartition(".")
    return f"[{section}]\n{leaf} = {value}\n"


def test_the_schema_marks_what_chooses_endpoints_executables_and_paths() -> None:
    for key in (
        "agents.endpoint.base_url",
        "agents.coder.base_url",
        "completion.endpoint.base_url",
        "indexing.qdrant_url",
        "models.gguf",
        "models.embedding",
        "agents.sandbox.mode",
        "agents.sandbox.binds",
        "agents.sandbox.bwrap",
        "deploy.vllm_bin",
        "server.tcp_host",
        "indexing.follow_symlinks",
    ):
        assert key in MACHINE_KEYS, key


@pytest.mark.parametrize("key", MACHINE_KEYS)
def test_every_machine_key_is_refused_from_the_workspace_file(tmp_path: Path, key: str) -> None:
    write(tmp_path / "atoll.toml", _nested(key, _toml_value(key)))
    default = load_config(None, env={}, user_file=tmp_path / "none.toml")
    loaded = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml")
    assert loaded.origins[key] == "default"
    assert getattr_dotted(loaded.config, key) == getattr_dotted(default.config, key)
    [issue] = loaded.issues
    assert issue.key == key
    assert "workspace" in issue.source
    # The message names where to set it instead.
    assert env_var_for(key) in issue.message or "user" in issue.message


@pytest.mark.parametrize("key", ["agents.endpoint.base_url", "agents.sandbox.mode"])
def test_machine_keys_are_refused_from_editor_workspace_settings(tmp_path: Path, key: str) -> None:
    section, _, leaf = key.rpartition(".")
    tree: dict[str, object] = {}
    node = tree
    for part in section.split("."):
        node = node.setdefault(part, {})  # type: ignore[assignment]
    node[leaf] = "unsandboxed" if "sandbox" in key else "http://attacker.example/v1"
    loaded = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml", editor_workspace=tree)
    assert loaded.origins[key] == "default"
    [issue] = loaded.issues
    assert issue.source == "editor (workspace settings)"
    assert "user settings" in issue.message
    # The same value from the user's own editor settings is taken.
    taken = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml", editor=tree)
    assert taken.origins[key] == "editor" and not taken.issues


def test_the_user_file_env_and_cli_may_set_machine_keys(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", '[agents.endpoint]\nbase_url = "http://gpu:8000/v1"\n')
    loaded = load_config(tmp_path, env={}, user_file=user)
    assert loaded.config.agents.endpoint.base_url == "http://gpu:8000/v1"
    env = {"ATOLL_COMPLETION_ENDPOINT_BASE_URL": "http://gpu:8001/v1"}
    loaded = load_config(tmp_path, env=env, cli={"agents.sandbox.mode": "off"}, user_file=user)
    assert loaded.config.completion.endpoint.base_url == "http://gpu:8001/v1"
    assert loaded.config.agents.sandbox.mode == "off"
    assert not loaded.issues


def test_scripted_models_come_only_from_env_or_cli(tmp_path: Path) -> None:
    script = write(tmp_path / "script.json", "[]")
    user = write(tmp_path / "user.toml", f'[agents.endpoint]\nbase_url = "scripted:{script}"\n')
    loaded = load_config(None, env={}, user_file=user)
    assert loaded.config.agents.endpoint.base_url == ""
    [issue] = loaded.issues
    assert "ATOLL_AGENTS_ENDPOINT_BASE_URL" in issue.message
    env = {"ATOLL_AGENTS_ENDPOINT_BASE_URL": f"scripted:{script}"}
    assert load_config(None, env=env, user_file=user).config.agents.endpoint.base_url.startswith(
        "scripted:"
    )
    cli = {"agents.coder.base_url": f"scripted:{script}"}
    loaded = load_config(None, env={}, cli=cli, user_file=tmp_path / "none.toml")
    assert loaded.config.agents.coder.base_url.startswith("scripted:")


@pytest.mark.parametrize(
    "value", ["../outside", "/tmp/atoll-elsewhere", "sub/../../outside", "~/.atoll-index"]
)
def test_workspace_paths_must_stay_inside(tmp_path: Path, value: str) -> None:
    ws = tmp_path / "ws"
    write(ws / "atoll.toml", f'[indexing]\nindex_dir = "{value}"\n')
    loaded = load_config(ws, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config.indexing.index_dir == ".atoll"
    [issue] = loaded.issues
    assert issue.key == "indexing.index_dir" and "outside the workspace" in issue.message


def test_a_workspace_path_through_a_symlink_that_leaves_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "elsewhere").mkdir()
    ws.mkdir()
    os.symlink(tmp_path / "elsewhere", ws / "link")
    write(ws / "atoll.toml", '[agents.coder]\nprompt = "link/coder.md"\n')
    loaded = load_config(ws, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config.agents.coder.prompt == ""
    assert [i.key for i in loaded.issues] == ["agents.coder.prompt"]


def test_workspace_paths_inside_are_taken(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(
        ws / "atoll.toml",
        '[indexing]\nindex_dir = ".cache/atoll"\n[agents.coder]\nprompt = "prompts/coder.md"\n',
    )
    loaded = load_config(ws, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config.indexing.index_dir == ".cache/atoll"
    assert loaded.config.agents.coder.prompt == "prompts/coder.md"
    assert not loaded.issues
    # The user may put the index anywhere (a workspace without its own setting).
    user = write(tmp_path / "user.toml", '[indexing]\nindex_dir = "/var/cache/atoll-index"\n')
    assert (
        load_config(tmp_path / "other", env={}, user_file=user).config.indexing.index_dir
        == "/var/cache/atoll-index"
    )


def getattr_dotted(obj: object, key: str) -> object:
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj
