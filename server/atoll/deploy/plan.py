"""From atoll's configuration to the servers the GPU box must run.

One vLLM server serves one model on one port, so the plan has one server per distinct
endpoint URL the crew and completion point at. Its host and port are the URL's (or
``deploy.bind_host`` / the role's ``port``), its model is the configured model name,
served from a local folder under ``deploy.model_dir`` (air-gapped: no hub download).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from atoll.config import AtollConfig
from atoll.config.schema import VllmServerConfig

# Which role's [deploy.<role>] overrides a server takes, and what it is called.
ROLE_PRIORITY = ("architect", "coder", "reviewer", "tester", "docs", "completion", "embeddings")
# An embedding model is small: its server takes this share of the GPU unless told.
EMBEDDING_SHARE = 0.08
OFFLINE_ENV = (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("VLLM_NO_USAGE_STATS", "1"),
    ("DO_NOT_TRACK", "1"),
)


class DeployError(ValueError):
    """The configuration does not describe a servable set-up; the message says what to set."""


@dataclass(frozen=True)
class VllmPlan:
    """One vLLM server: what it serves, where it listens, with which engine settings."""

    name: str  # "architect", "coder", ...
    users: tuple[str, ...]  # the atoll features that call it
    model: str  # the name clients ask for (--served-model-name)
    model_path: str
    host: str
    port: int
    max_model_len: int
    gpu_memory_utilization: float
    tensor_parallel_size: int
    pipeline_parallel_size: int
    max_num_seqs: int
    tool_call_parser: str  # "" when no user needs tools
    quantization: str
    extra_args: tuple[str, ...]
    runner: str = ""  # "pooling": an embedding model behind /v1/embeddings

    def args(self, *, host: str | None = None) -> list[str]:
        """``vllm serve``'s arguments; ``host`` overrides the bind address (containers)."""
        out = [
            self.model_path,
            "--served-model-name", self.model,
            "--host", host or self.host,
            "--port", str(self.port),
        ]  # fmt: skip
        if self.max_model_len:  # 0: the model's own (embedding models are short)
            out += ["--max-model-len", str(self.max_model_len)]
        out += [
            "--gpu-memory-utilization", f"{self.gpu_memory_utilization:.2f}",
            "--max-num-seqs", str(self.max_num_seqs),
            "--tensor-parallel-size", str(self.tensor_parallel_size),
            "--pipeline-parallel-size", str(self.pipeline_parallel_size),
        ]  # fmt: skip
        if self.runner:
            return [*out, "--runner", self.runner, *self.extra_args]
        out.append("--enable-prefix-caching")
        if self.tool_call_parser:
            out += ["--enable-auto-tool-choice", "--tool-call-parser", self.tool_call_parser]
        if self.quantization:
            out += ["--quantization", self.quantization]
        return out + list(self.extra_args)


@dataclass(frozen=True)
class QdrantPlan:
    host: str
    http_port: int
    grpc_port: int
    storage: str


def _host_port(url: str, setting: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeployError(f"{setting} = {url!r} is not an http(s) URL like http://gpu-box:8000/v1")
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname, parts.port or default


def _uses(config: AtollConfig) -> list[tuple[str, str, str, str, bool]]:
    """(role, url, model, url setting, needs tools) for each configured user."""
    uses: list[tuple[str, str, str, str, bool]] = []
    agents = config.agents.endpoint
    for role in config.agents.roles:
        role_config = getattr(config.agents, role, None)
        url = getattr(role_config, "base_url", "") or agents.base_url
        model = getattr(role_config, "model", "") or agents.model
        own = bool(getattr(role_config, "base_url", ""))
        if url:
            key = f"agents.{role}.base_url" if own else "agents.endpoint.base_url"
            uses.append((role, url, model, key, True))
    comp = config.completion.endpoint
    if comp.base_url:
        uses.append(
            ("completion", comp.base_url, comp.model, "completion.endpoint.base_url", False)
        )
    embed = config.indexing.embed_endpoint
    if embed.base_url:
        key = "indexing.embed_endpoint.base_url"
        uses.append(("embeddings", embed.base_url, embed.model, key, False))
    return uses


def plan_vllm(config: AtollConfig) -> list[VllmPlan]:
    """The vLLM servers that serve every configured endpoint, in port order."""
    deploy = config.deploy
    by_url: dict[str, list[tuple[str, str, str, bool]]] = {}
    for role, url, model, key, tools in _uses(config):
        by_url.setdefault(url.rstrip("/"), []).append((role, model, key, tools))
    if not by_url:
        raise DeployError(
            "no endpoint to serve: set agents.endpoint.base_url and agents.endpoint.model "
            "(and agents.coder.* for a second model); see deploy/atoll.toml"
        )
    drafts = []
    for url, users in by_url.items():
        models = sorted({model for _, model, _, _ in users})
        if models == [""] or len(models) > 1:
            names = ", ".join(f"{r}={m or '(unset)'}" for r, m, _, _ in users)
            raise DeployError(
                f"one vLLM server serves one model, but {url} is asked for: {names}; set the "
                "model, or give each model its own port (e.g. agents.coder.base_url)"
            )
        roles = [r for r, _, _, _ in users]
        name = min(roles, key=lambda r: ROLE_PRIORITY.index(r) if r in ROLE_PRIORITY else 99)
        override: VllmServerConfig = getattr(deploy, name, VllmServerConfig())
        host, port = _host_port(url, users[0][2])
        drafts.append((name, roles, models[0], host, override.port or port, override, users))
    per_host: dict[str, int] = {}
    embedding_hosts = {d[3] for d in drafts if d[0] == "embeddings"}
    for name, _, _, host, _, _, _ in drafts:
        if name != "embeddings":
            per_host[host] = per_host.get(host, 0) + 1
    plans = []
    for name, roles, model, host, port, override, users in drafts:
        pooling = name == "embeddings"
        left = deploy.gpu_memory_utilization - (EMBEDDING_SHARE if host in embedding_hosts else 0)
        share = EMBEDDING_SHARE if pooling else left / per_host[host]
        plans.append(
            VllmPlan(
                name=name,
                users=tuple(
                    r if r in ("completion", "embeddings") else f"agents.{r}" for r in roles
                ),
                model=model,
                model_path=override.model_path
                or f"{deploy.model_dir.rstrip('/')}/{model.rstrip('/').rsplit('/', 1)[-1]}",
                host=deploy.bind_host or host,
                port=port,
                max_model_len=override.max_model_len or (0 if pooling else deploy.max_model_len),
                gpu_memory_utilization=round(override.gpu_memory_utilization or share, 2),
                tensor_parallel_size=deploy.tensor_parallel_size,
                pipeline_parallel_size=deploy.pipeline_parallel_size,
                max_num_seqs=deploy.max_num_seqs,
                tool_call_parser=deploy.tool_call_parser if any(u[3] for u in users) else "",
                quantization="" if pooling else deploy.quantization,
                extra_args=deploy.extra_args,
                runner="pooling" if pooling else "",
            )
        )
    ports = [(p.host, p.port) for p in plans]
    if len(set(ports)) != len(ports):
        raise DeployError(f"two vLLM servers would listen on the same address: {ports}")
    total = sum(p.gpu_memory_utilization for p in plans if p.tensor_parallel_size == 1)
    if total > 0.98 and len({p.host for p in plans}) == 1:
        raise DeployError(
            f"the servers on one box ask for {total:.2f} of the GPU memory together; lower "
            "deploy.<role>.gpu_memory_utilization so they add up to 0.95 or less"
        )
    return sorted(plans, key=lambda p: (p.host, p.port))


def plan_qdrant(config: AtollConfig) -> QdrantPlan:
    """The Qdrant server ``indexing.qdrant_url`` points at."""
    url = config.indexing.qdrant_url
    if not url.startswith(("http://", "https://")):
        raise DeployError(
            "indexing.qdrant_url is not a server URL: set it to e.g. http://gpu-box.lan:6333 "
            "(unset, atoll keeps its vectors in embedded Qdrant Edge and needs no server)"
        )
    host, port = _host_port(url, "indexing.qdrant_url")
    port = config.deploy.qdrant_port or (port if urlsplit(url).port else 6333)
    return QdrantPlan(
        host=config.deploy.bind_host or host,
        http_port=port,
        grpc_port=port + 1,
        storage=config.deploy.qdrant_storage,
    )
