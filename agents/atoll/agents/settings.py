"""From atoll's configuration to a crew: settings, limits and one model per role."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from atoll.agents.agent import RoleLimits
from atoll.agents.crew import CrewSettings
from atoll.agents.models import ChatModel, LlamaCppChatModel, ScriptedChatModel
from atoll.agents.openai_chat import OpenAIChatModel
from atoll.agents.roles import ROLES
from atoll.agents.sandbox import SandboxPolicy
from atoll.agents.staging import WriteLimits
from atoll.config import AtollConfig
from atoll.config.loader import SCRIPTED
from atoll.config.schema import RoleConfig

CHARS_PER_TOKEN = 4
SOLO_ROLES = ("solo",)


def _role_config(config: AtollConfig, role: str) -> RoleConfig:
    value = getattr(config.agents, role, None)
    return value if isinstance(value, RoleConfig) else RoleConfig()


def run_mode(config: AtollConfig) -> Literal["crew", "solo"]:
    """``agents.mode``; "auto" is solo on the in-process model, the crew on an endpoint.

    Measured with the demo model (docs/benchmarks.md): the solo agent passes the same
    small tasks as the crew at a third of the time and a quarter of the tokens.
    """
    mode = config.agents.mode
    if mode != "auto":
        return mode
    coder = _role_config(config, "coder")
    return "crew" if coder.base_url or config.agents.endpoint.base_url else "solo"


def crew_roles(config: AtollConfig) -> tuple[str, ...]:
    """The pipeline of a run: ``agents.roles`` for the crew, the one solo agent for solo."""
    return SOLO_ROLES if run_mode(config) == "solo" else tuple(config.agents.roles)


def crew_settings(config: AtollConfig, root: Path | None = None) -> CrewSettings:
    """The crew's settings; relative prompt files are read from the workspace ``root``."""
    agents = config.agents
    limits: dict[str, RoleLimits] = {}
    prompts: dict[str, str] = {}
    for role in ROLES:
        rc = _role_config(config, role)
        limits[role] = RoleLimits(
            max_steps=rc.max_steps or agents.max_steps,
            max_tokens_per_call=agents.max_tokens,
            max_tokens=rc.max_tokens,
            wall_clock_s=rc.wall_clock_s,
            context_chars=agents.context_tokens * CHARS_PER_TOKEN,
            prose_tokens=agents.prose_tokens,
        )
        if rc.prompt:
            prompt = Path(rc.prompt).expanduser()
            prompts[role] = str(root / prompt if root is not None else prompt)
    return CrewSettings(
        roles=crew_roles(config),
        max_review_rounds=agents.max_review_rounds,
        max_fix_rounds=agents.max_fix_rounds,
        max_run_tokens=agents.max_run_tokens,
        wall_clock_s=agents.wall_clock_s,
        command_timeout_s=agents.command_timeout_s,
        tool_protocol=agents.tool_protocol,
        limits=limits,
        prompts=prompts,
        sandbox=SandboxPolicy.from_config(agents.sandbox),
        write_limits=WriteLimits(
            max_file_bytes=agents.sandbox.max_write_kb * 1024,
            max_run_bytes=agents.sandbox.max_run_kb * 1024,
        ),
    )


class ModelPool:
    """One model object per distinct endpoint: roles sharing an endpoint share a client.

    With no base URL anywhere, every role runs on the in-process llama.cpp model: the
    process's one copy (see :mod:`atoll.models.registry`), shared with completion.
    """

    def __init__(self, config: AtollConfig, gguf: Callable[[], Path] | None = None) -> None:
        self.config = config
        self._gguf = gguf
        self._models: dict[tuple[str, str], ChatModel] = {}

    def endpoint_for(self, role: str) -> tuple[str, str]:
        """(base URL, model) of a role: its model settings' section, else agents.endpoint."""
        rc = _role_config(self.config, ROLES[role].model_key if role in ROLES else role)
        endpoint = self.config.agents.endpoint
        return (rc.base_url or endpoint.base_url, rc.model or endpoint.model)

    def __call__(self, role: str) -> ChatModel:
        key = self.endpoint_for(role)
        if key not in self._models:
            base_url, model = key
            endpoint = self.config.agents.endpoint
            if base_url.startswith(SCRIPTED):
                self._models[key] = ScriptedChatModel.from_file(Path(base_url[len(SCRIPTED) :]))
            elif base_url:
                self._models[key] = OpenAIChatModel(
                    base_url,
                    model,
                    api_key=endpoint.api_key,
                    timeout_s=endpoint.timeout_s,
                    native_tools=self.config.agents.tool_protocol != "text",
                )
            else:
                self._models[key] = LlamaCppChatModel.for_config(self.config, self._gguf_path())
        return self._models[key]

    def _gguf_path(self) -> Path:
        if self._gguf is not None:
            return self._gguf()
        from atoll.config.models import resolve_gguf

        return resolve_gguf(self.config).path

    def check(self, roles: tuple[str, ...] | None = None) -> None:
        """Reach every endpoint the roles use; raises :class:`EndpointError` before any work."""
        for role in roles or crew_roles(self.config):
            model = self(role)
            if isinstance(model, OpenAIChatModel):
                model.check()
