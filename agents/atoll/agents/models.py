"""Chat models the crew talks to, behind one small ``ChatModel`` protocol.

- :class:`OpenAIChatModel`: any OpenAI-compatible server (vLLM, ``llama_cpp.server``).
- :class:`LlamaCppChatModel`: llama-cpp-python in-process, for offline demos.
- :class:`ScriptedChatModel`: replays scripted answers, for tests of the loop.

Messages are OpenAI-format dicts; answers are plain :class:`AssistantMessage` values.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from atoll.agents.errors import EndpointError

log = logging.getLogger(__name__)

Message = dict[str, Any]
ToolSchema = dict[str, Any]


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


class ChatModel(Protocol):
    """Messages (and optionally tools) in, one assistant message out."""

    name: str
    supports_tools: bool

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema] | None = None,
        *,
        max_tokens: int = 1024,
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


def _from_openai_message(message: Any, usage: Any) -> AssistantMessage:
    calls = []
    for call in getattr(message, "tool_calls", None) or []:
        function = call.function
        raw = function.arguments or ""
        calls.append(
            ToolCall(function.name, parse_arguments(raw), raw, id=call.id or ToolCall("", {}).id)
        )
    return AssistantMessage(
        content=message.content or "",
        tool_calls=tuple(calls),
        usage=Usage(
            getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0
        ),
    )


class OpenAIChatModel:
    """An OpenAI-compatible endpoint, with retries and back-off on transport errors."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        *,
        api_key: str = "",
        timeout_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        native_tools: bool = True,
    ) -> None:
        import openai

        self.base_url = base_url
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,  # our own loop below, so every retry is logged
        )
        self.model = model
        self.name = model or base_url
        self.retries = retries
        self.backoff_s = backoff_s
        self.supports_tools = native_tools

    def check(self) -> None:
        """Fail fast, before any work starts, when the endpoint is not there."""
        import openai

        try:
            models = self.client.models.list()
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise EndpointError(
                f"cannot reach the model endpoint {self.base_url}: {exc}. Start the "
                "server or fix agents.endpoint.base_url."
            ) from None
        except openai.APIStatusError as exc:
            raise EndpointError(f"the model endpoint {self.base_url} answered {exc}") from None
        if not self.model:
            ids = [m.id for m in models.data]
            if ids:
                self.model = ids[0]
                self.name = self.model

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema] | None = None,
        *,
        max_tokens: int = 1024,
    ) -> AssistantMessage:
        import openai

        if not self.model:
            self.check()
        kwargs: dict[str, Any] = {
            "model": self.model or "default",
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": 0.0,
        }
        if tools and self.supports_tools:
            kwargs["tools"] = list(tools)
            kwargs["tool_choice"] = "auto"
        for attempt in range(self.retries + 1):
            try:
                response = self.client.chat.completions.create(**kwargs)
                return _from_openai_message(response.choices[0].message, response.usage)
            except openai.BadRequestError as exc:
                if "tools" in kwargs:
                    # e.g. vLLM without --enable-auto-tool-choice: use the text protocol.
                    log.warning(
                        "%s refused tool calling (%s); using the text protocol", self.name, exc
                    )
                    self.supports_tools = False
                    kwargs.pop("tools")
                    kwargs.pop("tool_choice")
                    continue
                raise EndpointError(f"{self.base_url} rejected the request: {exc}") from None
            except (
                openai.APIConnectionError,
                openai.APITimeoutError,
                openai.InternalServerError,
                openai.RateLimitError,
            ) as exc:
                if attempt >= self.retries:
                    raise EndpointError(
                        f"{self.base_url} failed after {attempt + 1} attempts: {exc}"
                    ) from None
                delay = self.backoff_s * 2**attempt
                log.warning("%s: %s; retrying in %.1fs", self.base_url, exc, delay)
                time.sleep(delay)
            except openai.APIStatusError as exc:
                raise EndpointError(f"{self.base_url} answered {exc}") from None
        raise EndpointError(f"{self.base_url}: no answer")


class LlamaCppChatModel:
    """llama-cpp-python in-process: the offline default when no endpoint is configured.

    Small local models rarely manage native tool calls, so this model always uses the
    text protocol. One instance may serve every role; calls are serialised.
    """

    supports_tools = False

    def __init__(self, gguf: Path, *, n_ctx: int = 4096, n_threads: int = 0) -> None:
        self.path = gguf
        self.name = gguf.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llama: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or None,
                verbose=False,
            )
        return self._llama

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema] | None = None,
        *,
        max_tokens: int = 1024,
    ) -> AssistantMessage:
        plain = [
            {
                "role": m["role"] if m["role"] != "tool" else "user",
                "content": m.get("content") or "",
            }
            for m in messages
        ]
        with self._lock:
            try:
                out = self._load().create_chat_completion(
                    messages=plain, max_tokens=max_tokens, temperature=0.0
                )
            except (ValueError, RuntimeError) as exc:
                raise EndpointError(f"llama.cpp ({self.name}) failed: {exc}") from None
        usage = out.get("usage") or {}
        return AssistantMessage(
            content=out["choices"][0]["message"].get("content") or "",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        )


Script = str | AssistantMessage | Callable[[Sequence[Message]], "str | AssistantMessage"]


class ScriptedChatModel:
    """Replays answers in order: strings (text protocol), messages or callables.

    Deterministic and fast, so the loop, the pipeline and the LSP plumbing can be tested
    without a model. ``calls`` keeps every conversation it was shown.
    """

    def __init__(
        self, script: Sequence[Script], *, supports_tools: bool = False, delay_s: float = 0.0
    ) -> None:
        self.script = list(script)
        self.supports_tools = supports_tools
        self.delay_s = delay_s  # a stand-in for a slow model (cancellation tests, demos)
        self.name = "scripted"
        self.calls: list[list[Message]] = []

    @classmethod
    def from_file(cls, path: Path) -> ScriptedChatModel:
        """A JSON script: ``{"answers": [str | {"content", "tool_calls"}], "delay_s": 0}``.

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
        return cls(
            answers,
            supports_tools=bool(data.get("supports_tools", False)),
            delay_s=float(data.get("delay_s", 0.0)),
        )

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema] | None = None,
        *,
        max_tokens: int = 1024,
    ) -> AssistantMessage:
        self.calls.append([dict(m) for m in messages])
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
