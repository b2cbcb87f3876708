from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.config import AtollConfig, env_var_for, flatten, load_config, parse_assignments
from atoll.config.loader import LEAVES


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    loaded = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config == AtollConfig()
    assert set(loaded.origins.values()) == {"default"}
    assert loaded.issues == ()


def test_layer_precedence(tmp_path: Path) -> None:
    user = write(
        tmp_path / "user.toml",
        "[completion]\nmax_tokens = 10\ndebounce_ms = 11\ndebounce_ms_x = 1\n",
    )
    write(
        tmp_path / "ws" / "atoll.toml",
        "[completion]\nmax_tokens = 20\ndebounce_ms = 21\ntime_budget_ms = 22\n",
    )
    loaded = load_config(
        tmp_path / "ws",
        user_file=user,
        env={"ATOLL_COMPLETION_MAX_TOKENS": "30", "ATOLL_COMPLETION_DEBOUNCE_MS": "31"},
        cli={"completion.max_tokens": "40"},
        editor={"completion": {"cacheSize": 99}},
    )
    c = loaded.config.completion
    assert (c.max_tokens, c.debounce_ms, c.time_budget_ms, c.cache_size) == (40, 31, 22, 99)
    assert loaded.origins["completion.max_tokens"] == "cli"
    assert loaded.origins["completion.debounce_ms"] == "env ATOLL_COMPLETION_DEBOUNCE_MS"
    assert loaded.origins["completion.time_budget_ms"].startswith("workspace ")
    assert loaded.origins["completion.cache_size"] == "editor"
    # The unknown key in the user file is named with its file.
    [issue] = loaded.issues
    assert issue.key == "completion.debounce_ms_x" and str(user) in issue.source


def test_secret_in_workspace_file_is_refused_and_named(tmp_path: Path) -> None:
    write(tmp_path / "atoll.toml", '[agents.endpoint]\napi_key = "sk-leak"\nmodel = "m"\n')
    loaded = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config.agents.endpoint.api_key == ""
    assert loaded.config.agents.endpoint.model == "m"  # a model name is not an endpoint
    [issue] = loaded.issues
    assert issue.key == "agents.endpoint.api_key"
    assert "ATOLL_AGENTS_ENDPOINT_API_KEY" in issue.message


def test_secret_from_env_and_user_file(tmp_path: Path) -> None:
    user = write(tmp_path / "u.toml", '[indexing]\nqdrant_api_key = "from-user"\n')
    loaded = load_config(None, user_file=user, env={"ATOLL_AGENTS_ENDPOINT_API_KEY": "from-env"})
    assert loaded.config.indexing.qdrant_api_key == "from-user"
    assert loaded.config.agents.endpoint.api_key == "from-env"
    assert loaded.issues == ()


def test_wrong_type_keeps_lower_layer_and_reports_expected_type(tmp_path: Path) -> None:
    write(tmp_path / "atoll.toml", '[completion]\nmax_tokens = "many"\nbackend = "gpu"\n')
    loaded = load_config(tmp_path, env={}, user_file=tmp_path / "none.toml")
    assert loaded.config.completion.max_tokens == AtollConfig().completion.max_tokens
    assert loaded.config.completion.backend == "auto"
    messages = {i.key: i.message for i in loaded.issues}
    assert "expected integer" in messages["completion.max_tokens"]
    assert "'llama_cpp'" in messages["completion.backend"]


def test_unreadable_and_invalid_files_are_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path / "atoll.toml", "[completion\nmax_tokens = 1")
    user = tmp_path / "user.toml"
    user.mkdir()  # a folder where a file should be: unreadable
    loaded = load_config(tmp_path, env={}, user_file=user)
    assert loaded.config == AtollConfig()
    assert len(loaded.issues) == 2
    assert all("cannot read config file" in i.message for i in loaded.issues)


def test_section_given_a_scalar(tmp_path: Path) -> None:
    loaded = load_config(None, env={}, user_file=tmp_path / "x", editor={"completion": 3})
    assert loaded.issues[0].message == "expected a table of settings"


def test_unknown_env_variable_is_reported(tmp_path: Path) -> None:
    loaded = load_config(None, env={"ATOLL_NOPE": "1"}, user_file=tmp_path / "x")
    assert loaded.issues[0].key == "ATOLL_NOPE"


def test_tuple_and_bool_from_text(tmp_path: Path) -> None:
    loaded = load_config(
        None,
        user_file=tmp_path / "x",
        env={"ATOLL_INDEXING_EXCLUDE": "vendor/**, *.min.js", "ATOLL_COMPLETION_ENABLED": "off"},
    )
    assert loaded.config.indexing.exclude == ("vendor/**", "*.min.js")
    assert loaded.config.completion.enabled is False


def test_env_names_are_unambiguous() -> None:
    names = [env_var_for(k) for k in LEAVES]
    assert len(names) == len(set(names))


def test_parse_assignments() -> None:
    assert parse_assignments(["a.b=1", "c=x=y"]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_assignments(["novalue"])


@given(
    key=st.sampled_from(sorted(LEAVES)),
    value=st.one_of(
        st.integers(),
        st.text(max_size=8),
        st.booleans(),
        st.floats(allow_nan=False),
        st.lists(st.text(max_size=3), max_size=3),
        st.none(),
    ),
)
def test_any_editor_value_loads_without_raising(key: str, value: object) -> None:
    section, _, leaf = key.rpartition(".")
    tree: dict[str, object] = {leaf: value}
    for part in reversed(section.split(".")):
        tree = {part: tree}
    loaded = load_config(None, env={}, user_file=Path("/nonexistent/atoll.toml"), editor=tree)
    flat = flatten(loaded.config)
    if loaded.issues:
        assert flat[key] == flatten(AtollConfig())[key]
    else:
        assert loaded.origins[key] == "editor"
