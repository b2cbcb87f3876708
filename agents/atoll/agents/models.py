"""Chat models the crew talks to, behind one small ``ChatModel`` protocol.

- :class:`~atoll.agents.openai_chat.OpenAIChatModel`: any OpenAI-compatible server
  (vLLM, ``llama_cpp.server``), in its own module.
- :class:`LlamaCppChatModel`: llama-cpp-python in-process, for offline demos.
- :class:`ScriptedChatModel`: replays scripted answers, for tests of the loop.

Messages are OpenAI-format dicts; answers are plain :class:`AssistantMessage` values.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, Unpack

from atoll.agents.errors import EndpointError

Message = dict[str, Any]
ToolSchema = dict[str, Any]
Tools = Sequence[ToolSchema]
MAX_TOKENS = 1024  # an answer's length when the caller does not say


class Ask(TypedDict, total=False):
    """How to ask for one answer: its length, and a JSON schema the answer must match."""

    max_tokens: int
    schema: dict[str, Any] | None


@dataclass(frozen=True)
class ToolCall:
    """One requested tool call; ``arguments`` is None when they were not valid JSON."""

    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str = ""
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class AssistantMessage:
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()

    def to_message(self) -> Message:
        """The OpenAI-format message to append to the conversation."""
        message: Message = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw_arguments},
                }
                for call in self.tool_calls
            ]
        return message


# How a model holds its output to a JSON schema (see atoll.agents.decoding).
Structured = Literal["json_schema", "structured_outputs", "guided_json", "json_object", "grammar"]


@dataclass(frozen=True)
class Capabilities:
    """What a model can do to make its answers actions (detected for servers)."""

    native: bool = False  # tool calls with tool_choice "auto"
    required: bool = False  # tool_choice "required" forces a tool call
    structured: Structured | None = None

    def describe(self) -> str:
        parts = [
            "tool_choice required" if self.required else "",
            "native tool calls" if self.native and not self.required else "",
            f"structured output ({self.structured})" if self.structured else "",
        ]
        return ", ".join(p for p in parts if p) or "free text only"


class ChatModel(Protocol):
    """Messages in, one assistant message out.

    ``tools`` asks for native tool calls; ``schema`` (a JSON schema) asks for an answer
    that matches it. With neither the answer is free text.
    """

    name: str

    @property
    def capabilities(self) -> Capabilities: ...

    def complete(
        self, messages: Sequence[Message], tools: Tools | None = None, **ask: Unpack[Ask]
    ) -> AssistantMessage: ...


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _plain_messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    """Chat templates of small local models know only system/user/assistant turns."""
    return [
        {"role": m["role"] if m["role"] != "tool" else "user", "content": m.get("content") or ""}
        for m in messages
    ]


class LlamaCppChatModel:
    """The in-process llama.cpp model: the offline default when no endpoint is configured.

    It is the process's one loaded copy (:func:`atoll.models.registry`): in ``atoll
    serve`` the same instance completion and hover use, whose worker runs the crew's
    calls after any waiting completion or explanation. Small local models rarely manage
    native tool calls; a grammar holds them to the action schema instead.
    """

    capabilities = Capabilities(structured="grammar")

    def __init__(
        self, gguf: Path, *, n_ctx: int = 4096, n_threads: int = 0, spec: Any = None
    ) -> None:
        from atoll.models.registry import LocalSpec

        self.path = gguf
        self.name = gguf.name
        self.spec: LocalSpec = spec or LocalSpec(gguf, n_ctx, n_threads)
        self.temperature = 0.0
        self.seed: int | None = None  # set per sample by the benchmark (pass@k)
        self._lease: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        """The shared model, loaded on first use (from this thread: the crew's)."""
        from atoll.models.registry import registry

        with self._lock:
            if self._lease is None:
                self._lease = registry().local(self.spec)
            return self._lease.local

    @classmethod
    def for_config(cls, config: Any, gguf: Path) -> LlamaCppChatModel:
        """The model ``config.models`` describes: the same instance completion loads."""
        from atoll.models.registry import LocalSpec

        return cls(gguf, spec=LocalSpec.of(config, gguf))

    def complete(
        self, messages: Sequence[Message], tools: Tools | None = None, **ask: Unpack[Ask]
    ) -> AssistantMessage:
        max_tokens, schema = ask.get("max_tokens", MAX_TOKENS), ask.get("schema")
        try:
            out = self._model().chat_completion(
                _plain_messages(messages),
                max_tokens=max_tokens,
                temperature=self.temperature,
                seed=self.seed,
                schema=schema,
            )
        except (ValueError, RuntimeError) as exc:
            raise EndpointError(f"llama.cpp ({self.name}) failed: {exc}") from None
        usage = out.get("usage") or {}
        return AssistantMessage(
            content=out["choices"][0]["message"].get("content") or "",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        )

    def close(self) -> None:
        """Let go of the shared model (the last user frees it)."""
        with self._lock:
            lease, self._lease = self._lease, None
        if lease is not None:
            lease.close()


Script = str | AssistantMessage | Callable[[Sequence[Message]], "str | AssistantMessage"]


class ScriptedChatModel:
    """Replays answers in order: strings (text protocol), messages or callables.

    Deterministic and fast, so the loop, the pipeline and the LSP plumbing can be tested
    without a model. ``calls`` keeps every conversation it was shown.
    """

    def __init__(
        self,
        script: Sequence[Script],
        *,
        supports_tools: bool = False,
        delay_s: float = 0.0,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.script = list(script)
        self.capabilities = capabilities or Capabilities(native=supports_tools)
        self.delay_s = delay_s  # a stand-in for a slow model (cancellation tests, demos)
        self.name = "scripted"
        self.calls: list[list[Message]] = []
        self.requests: list[dict[str, Any]] = []  # the tools and schema of each call

    @classmethod
    def from_file(cls, path: Path) -> ScriptedChatModel:
        """A JSON script: ``{"answers": [str | {"content", "tool_calls"}], "delay_s": 0}``.

        ``"supports_tools": true`` or ``"capabilities": {"structured": "json_schema"}``
        say what the scripted model claims to support.

        Used through ``agents.endpoint.base_url = "scripted:<path>"`` by end-to-end tests
        and recorded demos; never a default.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EndpointError(f"cannot read the model script {path}: {exc}") from None
        answers: list[Script] = []
        for item in data.get("answers", []):
            if isinstance(item, str):
                answers.append(item)
                continue
            calls = tuple(
                ToolCall(
                    c["name"], parse_arguments(c.get("arguments")), json.dumps(c.get("arguments"))
                )
                for c in item.get("tool_calls", [])
            )
            answers.append(AssistantMessage(item.get("content", ""), calls))
        caps = data.get("capabilities")
        return cls(
            answers,
            supports_tools=bool(data.get("supports_tools", False)),
            delay_s=float(data.get("delay_s", 0.0)),
            capabilities=Capabilities(**caps) if isinstance(caps, dict) else None,
        )

    def complete(
        self, messages: Sequence[Message], tools: Tools | None = None, **ask: Unpack[Ask]
    ) -> AssistantMessage:
        max_tokens, schema = ask.get("max_tokens", MAX_TOKENS), ask.get("schema")
        self.calls.append([dict(m) for m in messages])
        self.requests.append({"tools": tools, "schema": schema, "max_tokens": max_tokens})
        if self.delay_s:
            time.sleep(self.delay_s)
        if not self.script:
            raise EndpointError("the scripted model has no answers left")
        step = self.script.pop(0)
        if callable(step):
            step = step(messages)
        if isinstance(step, str):
            step = AssistantMessage(step)
        words = sum(len(str(m.get("content") or "").split()) for m in messages)
        return AssistantMessage(
            step.content, step.tool_calls, Usage(words, len(step.content.split()) + 1)
        )
