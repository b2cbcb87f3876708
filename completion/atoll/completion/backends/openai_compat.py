"""Any OpenAI-compatible server: vLLM, ``python -m llama_cpp.server``, others.

Requests go through the same single worker as in-process models (one decode at a
time, completions first), with streaming so a cancel stops the server's work
within a chunk. When the server is down or slow, the backend backs off
(exponentially, up to ``backoff_max_s``) and answers at once with
:class:`ModelUnavailableError` meanwhile; ``on_state`` hears each change between
up and down, once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from atoll.completion.protocols import Generation, ModelUnavailableError, Prompt
from atoll.completion.worker import PRIORITY_CHAT, PRIORITY_COMPLETION, ModelWorker

log = logging.getLogger(__name__)
CHAT_TOKEN_CAP = 256
# The OpenAI API accepts at most four stop strings; the rest are applied here.
MAX_STOPS = 4

StateListener = Callable[[bool, str], None]


class OpenAICompatModel:
    """A remote model behind ``/v1/completions`` and ``/v1/chat/completions``."""

    backend = "openai"

    def __init__(
        self,
        base_url: str,
        model: str = "",
        *,
        api_key: str = "",
        timeout_s: float = 10.0,
        backoff_max_s: float = 30.0,
        worker: ModelWorker | None = None,
        on_state: StateListener | None = None,
    ) -> None:
        import openai

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.backoff_max_s = backoff_max_s
        self.worker = worker or ModelWorker("atoll-openai")
        self.on_state = on_state
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,
        )
        self.up = True
        self.last_error = ""
        self._backoff = 0.0
        self._down_until = 0.0

    @property
    def name(self) -> str:
        return self.model or self.base_url

    def count_tokens(self, text: str) -> int:
        # No tokenizer for a remote model: code averages about three characters a token.
        return (len(text) + 2) // 3

    # -- health --------------------------------------------------------------------

    def _check_backoff(self) -> None:
        if not self.up and time.monotonic() < self._down_until:
            raise ModelUnavailableError(
                f"{self.base_url} is unavailable ({self.last_error}); retrying in "
                f"{self._down_until - time.monotonic():.0f} s"
            )

    def _failed(self, exc: Exception) -> ModelUnavailableError:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._backoff = min(self.backoff_max_s, max(1.0, self._backoff * 2))
        self._down_until = time.monotonic() + self._backoff
        if self.up:
            self.up = False
            log.warning("completion server %s is down: %s", self.base_url, self.last_error)
            if self.on_state is not None:
                self.on_state(False, self.last_error)
        return ModelUnavailableError(f"{self.base_url}: {self.last_error}")

    def _succeeded(self) -> None:
        self._backoff = 0.0
        if not self.up:
            self.up = True
            log.info("completion server %s is back", self.base_url)
            if self.on_state is not None:
                self.on_state(True, "")

    @contextmanager
    def _request(self) -> Iterator[None]:
        """One call to the server: an outage starts the back-off, a 4xx is named as such."""
        import openai

        try:
            yield
        except (
            openai.APIConnectionError,
            openai.APITimeoutError,
            openai.InternalServerError,
        ) as exc:
            raise self._failed(exc) from None
        except openai.APIStatusError as exc:
            # A 4xx is our request's fault (bad model name...), not an outage.
            raise ModelUnavailableError(f"{self.base_url} refused the request: {exc}") from None
        self._succeeded()

    def _model_id(self) -> str:
        if not self.model:
            models = self._client.models.list()
            first = next(iter(models.data), None)
            if first is None:
                raise ModelUnavailableError(f"{self.base_url} serves no model")
            self.model = first.id
        return self.model

    # -- generation ----------------------------------------------------------------

    def generate_blocking(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Generation:

        self._check_backoff()
        start = time.perf_counter()
        result = Generation(text="", prompt_tokens=self.count_tokens(prompt.text))
        timeout = self.timeout_s
        if deadline is not None:
            timeout = max(0.1, min(timeout, deadline - time.monotonic() + 1.0))
        first_at: float | None = None
        text = ""
        finish = "length"
        with self._request():
            stream: Any = self._client.completions.create(
                model=self._model_id(),
                prompt=prompt.text,
                max_tokens=max_tokens,
                temperature=0.0,
                stop=list(prompt.stop[:MAX_STOPS]) or None,
                stream=True,
                timeout=timeout,
            )
            try:
                for chunk in stream:
                    if first_at is None:
                        first_at = time.perf_counter()
                    choice = chunk.choices[0] if chunk.choices else None
                    if choice is None:
                        continue
                    text += choice.text or ""
                    result.decode_tokens += 1
                    if choice.finish_reason:
                        finish = "stop" if choice.finish_reason == "stop" else "length"
                    cut = _first_stop(text, prompt.stop)
                    if cut is not None:
                        text, finish = text[:cut], "stop"
                        break
                    if prompt.done is not None and prompt.done(text):
                        finish = "stop"
                        break
                    if cancel is not None and cancel.is_set():
                        finish = "cancelled"
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        finish = "deadline"
                        break
            finally:
                stream.close()
        end = time.perf_counter()
        first_at = first_at or end
        result.text = text
        result.finish = finish
        result.prompt_ms = (first_at - start) * 1000
        result.decode_ms = (end - first_at) * 1000
        return result

    async def complete(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Generation:
        self._check_backoff()
        result, queue_ms = await self.worker.submit_timed(
            lambda: self.generate_blocking(
                prompt, max_tokens=max_tokens, cancel=cancel, deadline=deadline
            ),
            priority=PRIORITY_COMPLETION,
            cancel=cancel,
        )
        result.queue_ms = queue_ms
        return result

    def chat_blocking(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str:

        self._check_backoff()
        parts: list[str] = []
        with self._request():
            stream: Any = self._client.chat.completions.create(
                model=self._model_id(),
                messages=messages,  # type: ignore[arg-type]
                max_tokens=min(max_tokens, CHAT_TOKEN_CAP),
                temperature=0.2,
                stream=True,
            )
            try:
                for chunk in stream:
                    if chunk.choices:
                        parts.append(chunk.choices[0].delta.content or "")
                    if cancel is not None and cancel.is_set():
                        break
            finally:
                stream.close()
        return "".join(parts).strip()

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str:
        self._check_backoff()
        return await self.worker.submit(
            lambda: self.chat_blocking(messages, max_tokens=max_tokens, cancel=cancel),
            priority=PRIORITY_CHAT,
            cancel=cancel,
        )

    def close(self) -> None:
        self.worker.stop()
        self._client.close()


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None
