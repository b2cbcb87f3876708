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
# Environment variables that are not config keys but are still ours.
_ENV_NOT_KEYS = frozenset({"ATOLL_USER_CONFIG", "ATOLL_DEMO_NOTICE"})


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


class _Layer:
    def __init__(self, label: str, *, secrets_allowed: bool) -> None:
        self.label = label
        self.secrets_allowed = secrets_allowed


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's own config file lives (``ATOLL_USER_CONFIG`` overrides)."""
    env = os.environ if env is None else env
    if explicit := env.get("ATOLL_USER_CONFIG"):
        return Path(explicit).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "atoll" / "config.toml"


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _leaf_fields(cls: type, prefix: str = "") -> dict[str, tuple[Any, bool]]:
    """Dotted key -> (type, is_secret) for every leaf of the tree."""
    out: dict[str, tuple[Any, bool]] = {}
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            out.update(_leaf_fields(typing.cast(type, tp), key + "."))
        else:
            out[key] = (tp, bool(f.metadata.get("secret")))
    return out


LEAVES: dict[str, tuple[Any, bool]] = _leaf_fields(AtollConfig)
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
    if key not in LEAVES:
        issues.append(ConfigIssue(layer.label, key, "unknown setting (ignored)"))
        return
    tp, secret = LEAVES[key]
    if secret and not layer.secrets_allowed:
        issues.append(
            ConfigIssue(
                layer.label,
                key,
                "secrets are not read from here; set "
                f"{env_var_for(key)} or put it in {user_config_path()}",
            )
        )
        return
    try:
        values[key] = _coerce(value, tp, from_text=from_text)
    except ValueError as exc:
        issues.append(ConfigIssue(layer.label, key, f"{exc}; keeping {values[key]!r}"))
        return
    origins[key] = layer.label


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
    user_file: Path | None = None,
) -> LoadedConfig:
    """Merge every layer into one :class:`AtollConfig`.

    ``cli`` holds dotted keys with text values (``--set completion.max_tokens=32``);
    ``editor`` is the nested settings object an editor sends.
    """
    env = dict(os.environ if env is None else env)
    values = flatten(AtollConfig())
    origins = dict.fromkeys(values, "default")
    issues: list[ConfigIssue] = []

    user_path = user_file or user_config_path(env)
    if (tree := _read_toml(user_path, issues)) is not None:
        _apply_tree(
            tree, _Layer(f"user {user_path}", secrets_allowed=True), values, origins, issues
        )

    if workspace is not None:
        ws_path = workspace / WORKSPACE_FILE
        if (tree := _read_toml(ws_path, issues)) is not None:
            layer = _Layer(f"workspace {ws_path}", secrets_allowed=False)
            _apply_tree(tree, layer, values, origins, issues)

    if editor:
        _apply_tree(editor, _Layer("editor", secrets_allowed=False), values, origins, issues)

    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in _ENV_NOT_KEYS:
            continue
        key = _ENV_TO_KEY.get(name)
        if key is None:
            issues.append(ConfigIssue(f"env {name}", name, "unknown setting (ignored)"))
            continue
        layer = _Layer(f"env {name}", secrets_allowed=True)
        _apply_value(key, env[name], layer, values, origins, issues, from_text=True)

    for key, text in (cli or {}).items():
        _apply_value(
            key, text, _Layer("cli", secrets_allowed=True), values, origins, issues, from_text=True
        )

    return LoadedConfig(_build(AtollConfig, values), origins, tuple(issues))


def is_secret(key: str) -> bool:
    return LEAVES.get(key, (None, False))[1]


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["a.b=1", ...]`` -> ``{"a.b": "1"}``; raises ValueError on a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out
