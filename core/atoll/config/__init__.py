"""atoll's configuration: one frozen, typed tree loaded in layers."""

from atoll.config.loader import (
    ConfigIssue,
    LoadedConfig,
    env_var_for,
    flatten,
    is_machine_scope,
    is_secret,
    load_config,
    parse_assignments,
    user_config_path,
)
from atoll.config.models import ModelNotFoundError, ResolvedModel, resolve_embedding, resolve_gguf
from atoll.config.schema import (
    AgentsConfig,
    AtollConfig,
    CompletionConfig,
    EndpointConfig,
    HoverConfig,
    IndexingConfig,
    ModelsConfig,
    RoleConfig,
    SandboxConfig,
    ServerConfig,
)

__all__ = [
    "AgentsConfig",
    "AtollConfig",
    "CompletionConfig",
    "ConfigIssue",
    "EndpointConfig",
    "HoverConfig",
    "IndexingConfig",
    "LoadedConfig",
    "ModelNotFoundError",
    "ModelsConfig",
    "ResolvedModel",
    "RoleConfig",
    "SandboxConfig",
    "ServerConfig",
    "env_var_for",
    "flatten",
    "is_machine_scope",
    "is_secret",
    "load_config",
    "parse_assignments",
    "resolve_embedding",
    "resolve_gguf",
    "user_config_path",
]
