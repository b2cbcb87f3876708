"""Load the configuration tree from its layers and say where each value came from.

Layers, highest first: CLI flags > ``ATOLL_*`` environment > editor settings >
workspace ``atoll.toml`` > user ``~/.config/atoll/config.toml`` > defaults.
A bad value never stops loading: it is reported as a :class:`ConfigIssue` and the
layer below it (ultimately the default) stays in force.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from atoll.config.schema import AtollConfig

WORKSPACE_FILE = "atoll.toml"
ENV_PREFIX = "ATOLL_"
# A model that replays a recorded script instead of calling a model (tests, demos).
SCRIPTED = "scripted:"
# Environment variables that are not config keys but are still ours.
_ENV_NOT_KEYS = frozenset(
    {"ATOLL_USER_CONFIG", "ATOLL_DEMO_NOTICE", "ATOLL_PYTHON", "ATOLL_TEST_REQUIRE_SANDBOX"}
)


@dataclass(frozen=True)
class ConfigIssue:
    """One rejected setting: where it was, which key, and what was expected."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


@dataclass(frozen=True)
class LoadedConfig:
    config: AtollConfig
    # Dotted key -> the layer that set it ("default", "user <path>", "env ATOLL_X", ...).
    origins: Mapping[str, str] = field(default_factory=dict)
    issues: tuple[ConfigIssue, ...] = ()


@dataclass(frozen=True)
class _Layer:
    """Where values come from, and what that place may set (trust follows the layer)."""

    label: str
    secrets_allowed: bool
    # False for a workspace (its atoll.toml, the editor's workspace-folder settings):
    # anyone who clones a repository writes those.
    machine_allowed: bool = True
    # Only the environment and the CLI may select a `scripted:` model (tests, demos).
    scripted_allowed: bool = False
    # For a workspace layer: paths it sets must resolve inside this folder.
    workspace: Path | None = None
    # Where to set a refused key instead, for the message.
    instead: str = ""


@dataclass(frozen=True)
class Leaf:
    """One setting's type and trust, read from its schema field (and its sections')."""

    type: Any
    secret: bool = False
    machine: bool = False
    workspace_path: bool = False


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's own config file lives (``ATOLL_USER_CONFIG`` overrides)."""
    env = os.environ if env is None else env
    if explicit := env.get("ATOLL_USER_CONFIG"):
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "atoll" / "config.toml"


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _leaf_fields(cls: type, prefix: str = "", machine: bool = False) -> dict[str, Leaf]:
    """Dotted key -> :class:`Leaf` for every leaf of the tree; a section's marks cover
    every leaf under it."""
    out: dict[str, Leaf] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        meta = f.metadata
        if dataclasses.is_dataclass(tp):
            section_machine = machine or bool(meta.get("machine"))
            out.update(_leaf_fields(typing.cast(type, tp), key + ".", section_machine))
        else:
            out[key] = Leaf(
                tp,
                secret=bool(meta.get("secret")),
                machine=machine or bool(meta.get("machine")),
                workspace_path=bool(meta.get("workspace_path")),
            )
    return out


LEAVES: dict[str, Leaf] = _leaf_fields(AtollConfig)
SECTIONS: frozenset[str] = frozenset(
    ".".join(k.split(".")[:i]) for k in LEAVES for i in range(1, k.count(".") + 1)
)


def env_var_for(key: str) -> str:
    """``completion.max_tokens`` -> ``ATOLL_COMPLETION_MAX_TOKENS``."""
    return ENV_PREFIX + key.replace(".", "_").upper()


_ENV_TO_KEY = {env_var_for(k): k for k in LEAVES}


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if get_origin(tp) is tuple:
        return "list of strings"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, *, from_text: bool) -> Any:
    """Return ``value`` as ``tp`` or raise ValueError with the expected type."""
    expected = f"expected {_type_name(tp)}, got {value!r}"
    origin = get_origin(tp)
    if origin is Literal:
        if value in get_args(tp):
            return value
        raise ValueError(expected)
    if origin is tuple or tp is tuple:
        if from_text and isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ValueError(expected)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unions are not supported in config: {tp}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
        raise ValueError(expected)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        raise ValueError(expected)
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if from_text and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise ValueError(expected) from None
        raise ValueError(expected)
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError(expected)
    raise TypeError(f"unsupported config type {tp}")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _apply_tree(
    tree: Mapping[str, Any],
    layer: _Layer,
    values: dict[str, Any],
    origins: dict[str, str],
    issues: list[ConfigIssue],
    prefix: str = "",
) -> None:
    for raw_key, value in tree.items():
        key = prefix + _snake(str(raw_key))
        if key in SECTIONS:
            if isinstance(value, Mapping):
                _apply_tree(value, layer, values, origins, issues, key + ".")
            else:
                issues.append(ConfigIssue(layer.label, key, "expected a table of settings"))
            continue
        _apply_value(key, value, layer, values, origins, issues, from_text=False)


def _apply_value(
    key: str,
    value: Any,
    layer: _Layer,
    values: dict[str, Any],
    origins: dict[str, str],
    issues: list[ConfigIssue],
    *,
    from_text: bool,
) -> None:
    leaf = LEAVES.get(key)
    if leaf is None:
        issues.append(ConfigIssue(layer.label, key, "unknown setting (ignored)"))
        return
    try:
        coerced = _coerce(value, leaf.type, from_text=from_text)
        _check_trust(key, leaf, coerced, layer)
    except ValueError as exc:
        issues.append(ConfigIssue(layer.label, key, f"{exc}; keeping {values[key]!r}"))
        return
    except _Refused as exc:
        issues.append(ConfigIssue(layer.label, key, str(exc)))
        return
    values[key] = coerced
    origins[key] = layer.label


class _Refused(Exception):
    """A layer may not set this key (or this value): the message says where to set it."""


def _check_trust(key: str, leaf: Leaf, value: Any, layer: _Layer) -> None:
    where = f"set {env_var_for(key)} or put it in {user_config_path()}"
    if leaf.secret and not layer.secrets_allowed:
        raise _Refused(f"secrets are not read from here; {where}")
    if leaf.machine and not layer.machine_allowed:
        raise _Refused(
            "not read from a workspace (anyone who clones a repository can write its "
            f"settings, and this one chooses what atoll runs or reaches); {layer.instead or where}"
        )
    if isinstance(value, str) and value.startswith(SCRIPTED) and not layer.scripted_allowed:
        raise _Refused(
            f"`{SCRIPTED}` models replay a script and are for tests: they are read only from "
            f"the environment ({env_var_for(key)}) or --set"
        )
    if leaf.workspace_path and layer.workspace is not None and value:
        root = layer.workspace.resolve()
        target = (root / Path(value).expanduser()).resolve()
        if target != root and root not in target.parents:
            raise _Refused(
                f"{value!r} leads outside the workspace; a workspace may only name paths "
                f"inside it ({where})"
            )


def _read_toml(path: Path, issues: list[ConfigIssue]) -> Mapping[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        issues.append(ConfigIssue(str(path), "-", f"cannot read config file: {exc}"))
        return None


def _build(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = _build(typing.cast(type, tp), values, key + ".")
        else:
            kwargs[f.name] = values[key]
    return cls(**kwargs)


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value for every leaf of a config (sub)tree."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def load_config(
    workspace: Path | None = None,
    *,
    cli: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    editor: Mapping[str, Any] | None = None,
    editor_workspace: Mapping[str, Any] | None = None,
    user_file: Path | None = None,
) -> LoadedConfig:
    """Merge every layer into one :class:`AtollConfig`.

    ``cli`` holds dotted keys with text values (``--set completion.max_tokens=32``);
    ``editor`` is the nested settings object an editor sends from the user's own
    settings, ``editor_workspace`` the part that came from the workspace (untrusted,
    like the workspace's ``atoll.toml``).
    """
    env = dict(os.environ if env is None else env)
    values = flatten(AtollConfig())
    origins = dict.fromkeys(values, "default")
    issues: list[ConfigIssue] = []
    user_path = user_file or user_config_path(env)
    instead = f"put it in {user_path}, your editor's user settings or the environment"
    trees: list[tuple[Mapping[str, Any] | None, _Layer]] = [
        (_read_toml(user_path, issues), _Layer(f"user {user_path}", secrets_allowed=True)),
    ]
    if workspace is not None:
        ws_path = workspace / WORKSPACE_FILE
        untrusted = _Layer(
            f"workspace {ws_path}",
            False,
            machine_allowed=False,
            workspace=workspace,
            instead=instead,
        )
        trees.append((_read_toml(ws_path, issues), untrusted))
    trees.append((editor, _Layer("editor", secrets_allowed=False)))
    folder = _Layer(
        "editor (workspace settings)",
        False,
        machine_allowed=False,
        workspace=workspace,
        instead="set it in your editor's user settings, the environment or your user file",
    )
    trees.append((editor_workspace, folder))
    for tree, layer in trees:
        if tree:
            _apply_tree(tree, layer, values, origins, issues)

    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in _ENV_NOT_KEYS:
            continue
        key = _ENV_TO_KEY.get(name)
        if key is None:
            issues.append(ConfigIssue(f"env {name}", name, "unknown setting (ignored)"))
            continue
        layer = _Layer(f"env {name}", secrets_allowed=True, scripted_allowed=True)
        _apply_value(key, env[name], layer, values, origins, issues, from_text=True)

    cli_layer = _Layer("cli", secrets_allowed=True, scripted_allowed=True)
    for key, text in (cli or {}).items():
        _apply_value(key, text, cli_layer, values, origins, issues, from_text=True)

    return LoadedConfig(_build(AtollConfig, values), origins, tuple(issues))


def is_secret(key: str) -> bool:
    leaf = LEAVES.get(key)
    return leaf is not None and leaf.secret


def is_machine_scope(key: str) -> bool:
    """Whether ``key`` may not come from a workspace (secrets included)."""
    leaf = LEAVES.get(key)
    return leaf is not None and (leaf.machine or leaf.secret)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["a.b=1", ...]`` -> ``{"a.b": "1"}``; raises ValueError on a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out
