"""An OpenAI-compatible chat endpoint (vLLM, llama.cpp's servers, others) for the crew.

What the server supports for actions (forced tool calls, structured output and in which
request shape) is detected once with tiny probe requests, the first time a role asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Unpack

from atoll.agents.decoding import detect, native_body, structured_body
from atoll.agents.errors import EndpointError
from atoll.agents.models import (
    MAX_TOKENS,
    Ask,
    AssistantMessage,
    Capabilities,
    Message,
    ToolCall,
    Tools,
    ToolSchema,
    Usage,
    parse_arguments,
)

log = logging.getLogger(__name__)
STANDARD = ("model", "messages")  # the rest of a body goes as extra_body, verbatim


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
        self.temperature = 0.0
        self.seed: int | None = None  # set per sample by the benchmark (pass@k)
        self._caps: Capabilities | None = None

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

    @property
    def capabilities(self) -> Capabilities:
        """Detected on first use: a handful of tiny requests, once per model object."""
        if self._caps is None:
            if not self.model:
                self.check()
            caps = detect(self.probe, self.model or "default")
            if not self.supports_tools:
                caps = Capabilities(structured=caps.structured)
            log.info("%s supports: %s", self.name, caps.describe())
            self._caps = caps
        return self._caps

    def probe(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """One request as is: the answer's JSON, None when the server refused it."""
        import openai

        try:
            answer: dict[str, Any] = self._send(body).model_dump()
            return answer
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise EndpointError(f"cannot reach {self.base_url}: {exc}") from None
        except openai.APIStatusError:
            return None

    def _send(self, body: dict[str, Any]) -> Any:
        extra = {k: v for k, v in body.items() if k not in STANDARD}
        return self.client.chat.completions.create(
            model=body["model"], messages=body["messages"], extra_body=extra
        )

    def request_body(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema] | None = None,
        *,
        max_tokens: int = 1024,
        schema: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON body of one chat completion (what goes over the wire)."""
        body: dict[str, Any] = {
            "model": self.model or "default",
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.temperature,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if tools and self.supports_tools:
            body.update(native_body(tools, bool(self._caps and self._caps.required)))
        style = self._caps.structured if self._caps else None
        if schema is not None and style and style != "grammar":
            body.update(structured_body(style, schema))
        return body

    def _refused(self, body: dict[str, Any], exc: Exception) -> bool:
        """Drop what the server refused (tools, a schema) and say so; False: nothing to drop."""
        if "tools" in body:
            # e.g. vLLM without --enable-auto-tool-choice: use the text protocol.
            log.warning("%s refused tool calling (%s); using the text protocol", self.name, exc)
            self.supports_tools = False
            body.pop("tools")
            body.pop("tool_choice")
            return True
        dropped = [k for k in ("response_format", "structured_outputs", "guided_json") if k in body]
        if dropped and self._caps is not None:
            log.warning("%s refused structured output (%s); answers are free text", self.name, exc)
            self._caps = Capabilities(self._caps.native, self._caps.required)
            for key in dropped:
                body.pop(key)
            return True
        return False

    def complete(
        self, messages: Sequence[Message], tools: Tools | None = None, **ask: Unpack[Ask]
    ) -> AssistantMessage:
        max_tokens, schema = ask.get("max_tokens", MAX_TOKENS), ask.get("schema")
        import openai

        if not self.model:
            self.check()
        body = self.request_body(messages, tools, max_tokens=max_tokens, schema=schema)
        for attempt in range(self.retries + 1):
            try:
                response = self._send(body)
                return _from_openai_message(response.choices[0].message, response.usage)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if self._refused(body, exc):
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
