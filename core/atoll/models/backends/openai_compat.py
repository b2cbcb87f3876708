"""Any OpenAI-compatible server: vLLM, llama.cpp's server, ``python -m llama_cpp.server``.

Requests run on the event loop (httpx, streamed), so the deadline and a cancel abandon
a stream at once, whatever the server does: a stuck server that only sends keep-alives
or nothing at all is closed at the deadline, and closing is how llama.cpp and vLLM
learn to stop. When ``/v1/models`` says the server is llama.cpp's own, completions go
to ``/infill`` (its FIM prompt with the model's tokens, other files as ``input_extra``,
``cache_prompt``, ``t_max_predict_ms``, ``n_indent``); otherwise to ``/v1/completions``
with atoll's prompt, whose stable-first layout is what vLLM's prefix caching reuses.

A server that is down, slow, refuses or answers garbage is backed off (exponentially,
up to ``backoff_max_s``): requests answer at once with :class:`ModelUnavailableError`
meanwhile, and ``on_state`` hears each change between up and down, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from atoll.models.backends import CHAT_TOKEN_CAP, Backend, BackendError, Created, StateListener
from atoll.models.gguf import GgufError, GgufInfo, read_gguf_metadata
from atoll.models.stopping import Stopping
from atoll.models.types import ChatLimits, Generation, Limits, ModelUnavailableError, Prompt
from atoll.models.wire import (
    MalformedAnswerError,
    chat_body,
    completion_body,
    infill_body,
    piece,
    read_line,
    server_kind,
    whole_answer,
)

if TYPE_CHECKING:
    from atoll.config import AtollConfig

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 3.0
# Requests in a row that reached the deadline without a single piece of text: the
# server is stuck (or far too slow for completion), which is an outage to the user.
SILENT_LIMIT = 3


class OpenAICompatModel:
    """A remote model; see the module docstring."""

    backend = "openai"

    def __init__(
        self,
        base_url: str,
        model: str = "",
        *,
        api_key: str = "",
        timeout_s: float = 10.0,
        backoff_max_s: float = 30.0,
        on_state: StateListener | None = None,
        server: str = "auto",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.backoff_max_s = backoff_max_s
        self.on_state = on_state
        self.kind = "" if server == "auto" else server
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.up = True
        self.last_error = ""
        self._backoff = 0.0
        self._down_until = 0.0
        self._silent = 0

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

    def _failed(self, detail: str) -> ModelUnavailableError:
        self.last_error = detail
        self._backoff = min(self.backoff_max_s, max(1.0, self._backoff * 2))
        self._down_until = time.monotonic() + self._backoff
        if self.up:
            self.up = False
            log.warning("completion server %s is down: %s", self.base_url, detail)
            if self.on_state is not None:
                self.on_state(False, detail)
        return ModelUnavailableError(f"{self.base_url}: {detail}")

    def _succeeded(self) -> None:
        self._backoff = 0.0
        if not self.up:
            self.up = True
            log.info("completion server %s is back", self.base_url)
            if self.on_state is not None:
                self.on_state(True, "")

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """One call: any failure (outage, refusal, garbage) starts the back-off."""
        import httpx

        try:
            yield
        except MalformedAnswerError as exc:
            raise self._failed(f"malformed answer: {exc}") from None
        except httpx.HTTPStatusError as exc:
            detail = f"HTTP {exc.response.status_code} {exc.response.reason_phrase}"
            raise self._failed(detail) from None
        except httpx.TimeoutException as exc:
            raise self._failed(f"Timeout ({type(exc).__name__}): {exc}") from None
        except TimeoutError:
            raise self._failed("Timeout: no answer within the time budget") from None
        except httpx.ConnectError as exc:
            raise self._failed(f"ConnectionError: {exc}") from None
        except httpx.HTTPError as exc:
            raise self._failed(f"{type(exc).__name__}: {exc}") from None

    # -- the wire ------------------------------------------------------------------

    def _http(self) -> Any:
        """The client for the running event loop (its connections belong to that loop)."""
        import httpx

        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(headers=self._headers, timeout=self.timeout_s)
            self._client_loop = loop
        return self._client

    async def _probe(self, deadline: float | None = None) -> None:
        """What the server is and which model it serves (once, within ``deadline``)."""
        import httpx

        if self.kind and self.model:
            return
        limit = PROBE_TIMEOUT_S
        if deadline is not None:
            limit = max(0.0, min(limit, deadline - time.monotonic()))
        async with self._guard(), asyncio.timeout(limit):
            response = await self._http().get(self.base_url + "/models")
            try:
                response.raise_for_status()
                kind, first = server_kind(response.json())
            except (ValueError, httpx.HTTPStatusError) as exc:
                if not self.model:
                    if isinstance(exc, httpx.HTTPStatusError):
                        raise
                    raise MalformedAnswerError(
                        f"a /models answer that is not JSON: {exc}"
                    ) from None
                # No usable model list, but we know which model to ask for: a plain
                # OpenAI-compatible server.
                kind, first = "openai", self.model
        self.kind = self.kind or kind
        self.model = self.model or first
        log.info("completion server %s is %s, model %s", self.base_url, self.kind, self.model)

    async def _stream(
        self, url: str, body: dict[str, Any], api: str, on_text: Callable[[str], bool]
    ) -> None:
        """POST ``body`` and feed each piece of text to ``on_text`` until it says stop."""
        async with self._guard(), self._http().stream("POST", url, json=body) as response:
            if response.status_code >= 400:
                await response.aread()
                response.raise_for_status()
            if "text/event-stream" not in response.headers.get("content-type", ""):
                text, _ = whole_answer(await response.aread(), api)
                on_text(text)
                return
            async for line in response.aiter_lines():
                event = read_line(line)
                if event is None or event.kind == "keepalive":
                    continue
                if event.kind == "done":
                    return
                text, finished = piece(event.data, api)
                if (text and not on_text(text)) or finished:
                    return

    async def _call(
        self,
        url: str,
        body: dict[str, Any],
        api: str,
        on_text: Callable[[str], bool],
        *,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> str:
        """Run :meth:`_stream` under the deadline and the cancel flag; returns why it
        ended early ("deadline", "cancelled") or ""."""
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        remove = None
        if cancel is not None and task is not None and hasattr(cancel, "add_callback"):
            remove = cancel.add_callback(lambda: loop.call_soon_threadsafe(task.cancel))
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            async with asyncio.timeout(timeout):
                await self._stream(url, body, api, on_text)
        except TimeoutError:
            return "deadline"  # the stream is closed: the server stops working on it
        except asyncio.CancelledError:
            if cancel is None or not cancel.is_set() or task is None:
                raise
            task.uncancel()
            return "cancelled"
        finally:
            if remove is not None:
                remove()
        self._succeeded()
        return ""

    # -- the model -----------------------------------------------------------------

    async def complete(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        max_tokens, cancel = limits["max_tokens"], limits.get("cancel")
        deadline = limits.get("deadline")
        self._check_backoff()
        start = time.perf_counter()
        await self._probe(deadline)
        infill = self.kind == "llama.cpp" and prompt.infill is not None
        if max_tokens <= 0 and not infill:
            return Generation("", finish="length")  # only llama.cpp's slots can be warmed
        stopping = Stopping(prompt, max_tokens, cancel, deadline)
        parts: list[str] = []
        first: list[float] = []

        def on_text(text: str) -> bool:
            if not first:
                first.append(time.perf_counter())
            parts.append(text)
            return stopping.feed("".join(parts))

        if infill:
            left = None if deadline is None else int((deadline - time.monotonic()) * 1000)
            url, body, api = (
                self._root() + "/infill",
                infill_body(prompt, max_tokens, left),
                "infill",
            )
        else:
            url, api = self.base_url + "/completions", "completions"
            body = completion_body(self.model, prompt, max_tokens)
        why = await self._call(url, body, api, on_text, cancel=cancel, deadline=deadline)
        self._note_silence(why == "deadline" and not first)
        end = time.perf_counter()
        at = first[0] if first else end
        return Generation(
            text=stopping.text,
            prompt_tokens=self.count_tokens(prompt.text),
            decode_tokens=stopping.pieces,
            prompt_ms=(at - start) * 1000,
            decode_ms=(end - at) * 1000,
            finish=why or stopping.finish,
        )

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str:
        max_tokens, cancel = limits["max_tokens"], limits.get("cancel")
        self._check_backoff()
        await self._probe()
        parts: list[str] = []

        def on_text(text: str) -> bool:
            parts.append(text)
            return cancel is None or not cancel.is_set()

        body = chat_body(self.model, messages, min(max_tokens, CHAT_TOKEN_CAP))
        url = self.base_url + "/chat/completions"
        await self._call(url, body, "chat", on_text, cancel=cancel, deadline=None)
        return "".join(parts).strip()

    def _note_silence(self, silent: bool) -> None:
        self._silent = self._silent + 1 if silent else 0
        if self._silent >= SILENT_LIMIT:
            self._silent = 0
            raise self._failed(f"no answer within the time budget {SILENT_LIMIT} times in a row")

    def _root(self) -> str:
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        # The client's connections belong to the event loop: aclose() there; from a
        # thread without a loop, dropping the client is all that can be done.
        self._client = None


def create(config: AtollConfig, on_state: StateListener | None) -> Created:
    """``completion.endpoint``; its GGUF header when ``models.gguf`` is the same file."""
    endpoint = config.completion.endpoint
    if not endpoint.base_url:
        raise BackendError(
            "completion.backend is 'openai' but completion.endpoint.base_url is empty: set it "
            "to your server's URL, e.g. http://gpu-box.lan:8000/v1"
        )
    timeout = min(endpoint.timeout_s, max(1.0, config.completion.time_budget_ms / 1000 * 2))
    model = OpenAICompatModel(
        endpoint.base_url,
        endpoint.model,
        api_key=endpoint.api_key,
        timeout_s=timeout,
        backoff_max_s=config.completion.backoff_max_s,
        on_state=on_state,
        server=config.completion.server,
    )
    info: GgufInfo | None = None
    if config.models.gguf and Path(config.models.gguf).expanduser().is_file():
        # The same file the server runs: its tokens tell the template.
        try:
            info = read_gguf_metadata(config.models.gguf)
        except GgufError as exc:
            log.warning("models.gguf: %s", exc)
    return Created(model, info, False, endpoint.model)


BACKEND = Backend("openai", create)
