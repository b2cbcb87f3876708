"""What goes over the wire to an OpenAI-compatible server, and how its answers are read.

Pure functions: request bodies for ``/v1/completions``, ``/v1/chat/completions`` and
llama.cpp's ``/infill``, and a reader for server-sent events that tells a keep-alive
from data and rejects anything that is not what the API promises.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from atoll.models.types import Prompt

# The OpenAI API accepts at most four stop strings; the rest are applied here.
MAX_STOPS = 4
# What /v1/models says about llama.cpp's own server (`owned_by`), and vLLM.
OWNERS = {"llamacpp": "llama.cpp", "vllm": "vllm"}


class MalformedAnswerError(ValueError):
    """The server answered something that is not what its API promises."""


@dataclass(frozen=True)
class Event:
    """One server-sent event: ``data`` (decoded JSON), ``done`` or ``keepalive``."""

    kind: str
    data: Any = None


def read_line(line: str) -> Event | None:
    """The event a line of an SSE stream carries (None for the blank separators)."""
    line = line.strip("\r")
    if not line:
        return None
    if line.startswith(":"):
        return Event("keepalive")
    if line.startswith(("event:", "id:", "retry:")):
        return Event("keepalive")
    if not line.startswith("data:"):
        raise MalformedAnswerError(f"not a server-sent event: {line[:80]!r}")
    payload = line[5:].strip()
    if payload == "[DONE]":
        return Event("done")
    try:
        return Event("data", json.loads(payload))
    except json.JSONDecodeError:
        raise MalformedAnswerError(f"an event that is not JSON: {payload[:80]!r}") from None


def piece(data: Any, api: str) -> tuple[str, bool]:
    """(text, finished) from one event's data for ``api``: completions, chat or infill."""
    if not isinstance(data, dict):
        raise MalformedAnswerError(f"an event that is not an object: {str(data)[:80]!r}")
    if "error" in data:
        raise MalformedAnswerError(f"the server reported an error: {str(data['error'])[:200]}")
    if api == "infill":
        text = data.get("content")
        if not isinstance(text, str):
            raise MalformedAnswerError("an /infill event without content")
        return text, bool(data.get("stop"))
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise MalformedAnswerError("an event without choices")
    if not choices:
        return "", False  # usage-only chunks
    choice = choices[0] if isinstance(choices[0], dict) else {}
    if api == "chat":
        delta = choice.get("delta") or choice.get("message") or {}
        text = delta.get("content") if isinstance(delta, dict) else None
    else:
        text = choice.get("text")
    if text is not None and not isinstance(text, str):
        raise MalformedAnswerError("an event whose text is not a string")
    return text or "", bool(choice.get("finish_reason"))


def whole_answer(body: bytes, api: str) -> tuple[str, bool]:
    """A server that ignored ``stream: true`` and sent one JSON answer."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedAnswerError(f"an answer that is not JSON: {body[:80]!r}") from None
    if api == "chat" and isinstance(data, dict) and isinstance(data.get("choices"), list):
        for choice in data["choices"][:1]:
            if isinstance(choice, dict) and "message" in choice:
                choice.setdefault("delta", choice["message"])
    return piece(data, api)


def completion_body(model: str, prompt: Prompt, max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "prompt": prompt.text,
        "max_tokens": max(1, max_tokens),
        "temperature": 0.0,
        "stop": list(prompt.stop[:MAX_STOPS]) or None,
        "stream": True,
    }


def infill_body(prompt: Prompt, max_tokens: int, predict_ms: int | None) -> dict[str, Any]:
    """llama.cpp's ``/infill``: it builds the FIM prompt with the model's own tokens,
    puts ``input_extra`` (other files) first and keeps the prompt cached per slot."""
    infill = prompt.infill
    assert infill is not None
    body: dict[str, Any] = {
        "input_prefix": infill.prefix,
        "input_suffix": infill.suffix,
        "prompt": infill.middle,
        "input_extra": [{"filename": name, "text": text} for name, text in infill.extra],
        "n_predict": max(0, max_tokens),  # 0: only evaluate (warm the server's slot)
        "n_indent": infill.indent,
        "cache_prompt": True,
        "temperature": 0.0,
        "top_k": 1,
        "stop": list(prompt.stop),
        "stream": True,
    }
    if predict_ms is not None:
        body["t_max_predict_ms"] = max(1, predict_ms)
    return body


def chat_body(model: str, messages: Sequence[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "messages": list(messages),
        "max_tokens": max(1, max_tokens),
        "temperature": 0.2,
        "stream": True,
    }


def server_kind(models: Any) -> tuple[str, str]:
    """(kind, first model id) from a ``/v1/models`` answer."""
    data = models.get("data") if isinstance(models, dict) else None
    if not isinstance(data, list):
        raise MalformedAnswerError("a /models answer without data")
    first = data[0] if data and isinstance(data[0], dict) else {}
    return OWNERS.get(str(first.get("owned_by", "")).lower(), "openai"), str(first.get("id", ""))
