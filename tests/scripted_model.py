"""A deterministic ``TextModel`` for logic tests (no llama.cpp needed).

``complete`` answers with fixed text, one "token" per character, ``per_token_s`` apart;
``chat`` answers the whole text after ``delay_s``. Both stop early when ``cancel`` is set,
as a decoder checks between tokens. ``down`` makes every completion unavailable and the
answer "boom" makes a chat fail, for the error paths.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Unpack

from atoll.models.types import ChatLimits, Generation, Limits, ModelUnavailableError, Prompt

CHAT_STEP_S = 0.01


class ScriptedModel:
    name = "scripted"
    backend = "scripted"

    def __init__(
        self,
        answer: str = "Adds two numbers.",
        *,
        per_token_s: float = 0.0,
        delay_s: float = 0.0,
        down: bool = False,
    ) -> None:
        self.answer = answer
        self.per_token_s = per_token_s
        self.delay_s = delay_s
        self.down = down
        self.prompts: list[str] = []  # each completion's prompt text
        self.calls: list[list[dict[str, str]]] = []  # each chat's messages
        self.cancelled: list[threading.Event] = []  # each chat's cancel event

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    async def complete(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        max_tokens, cancel = limits["max_tokens"], limits.get("cancel")
        if self.down:
            raise ModelUnavailableError("down")
        if max_tokens <= 0:  # warming: the prompt is evaluated, nothing generated
            return Generation("", prompt_tokens=10, evaluated_tokens=10, finish="length")
        self.prompts.append(prompt.text)
        out = ""
        for ch in self.answer[:max_tokens]:
            if cancel is not None and cancel.is_set():
                return Generation(out, decode_tokens=len(out), finish="cancelled")
            await asyncio.sleep(self.per_token_s)
            out += ch
        return Generation(out, prompt_tokens=10, cached_tokens=4, decode_tokens=len(out))

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str:
        cancel = limits.get("cancel")
        self.calls.append(messages)
        if cancel is not None:
            self.cancelled.append(cancel)
        steps = max(1, int(self.delay_s / CHAT_STEP_S))
        for _ in range(steps if self.delay_s else 0):
            if cancel is not None and cancel.is_set():
                return ""
            await asyncio.sleep(CHAT_STEP_S)
        if self.answer == "boom":
            raise RuntimeError("model crashed")
        return self.answer

    def close(self) -> None:
        pass
