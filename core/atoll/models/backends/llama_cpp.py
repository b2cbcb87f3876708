"""In-process llama.cpp (llama-cpp-python) with a GGUF file.

The model lives on one :class:`~atoll.models.worker.ModelWorker` thread. Prompts
arrive as segments and are tokenized here: special tokens by id, code with
``special=False`` (so a ``<|endoftext|>`` typed in a file is just text). Prompts are
evaluated by :class:`~atoll.models.llama_eval.Evaluator`: the previous
prompt's KV entries are kept (and moved) where they still fit, the rest goes through
llama.cpp in batches that a cancel, a more urgent job or the deadline stops within a
graph node. Then greedy decoding, token by token, with the same checks.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from atoll.models.backends import CHAT_TOKEN_CAP, Backend, BackendError, Created, StateListener
from atoll.models.gguf import GgufError, GgufInfo, read_gguf_metadata
from atoll.models.llama_eval import Evaluator
from atoll.models.llama_load import load_llama
from atoll.models.stopping import Stopping
from atoll.models.types import ChatLimits, Generation, Limits, ModelUnavailableError, Prompt
from atoll.models.worker import (
    PRIORITY_CHAT,
    PRIORITY_COMPLETION,
    PRIORITY_CREW,
    PRIORITY_WARM,
    CancelFlag,
    ModelWorker,
)

if TYPE_CHECKING:
    from atoll.config import AtollConfig

log = logging.getLogger(__name__)


class LlamaCppModel:
    """A GGUF model loaded in this process (see the module docstring)."""

    backend = "llama_cpp"

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 0,
        n_gpu_layers: int = 0,
        cpu_extra_buffers: bool = False,
        info: GgufInfo | None = None,
        worker: ModelWorker | None = None,
    ) -> None:
        self.path = path
        self.cpu_extra_buffers = cpu_extra_buffers
        self.info = info or read_gguf_metadata(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.worker = worker or ModelWorker()
        self._llm: Any = None
        self._eval: Evaluator | None = None
        self._special_ids: dict[str, int] = {}
        self.load_s = 0.0

    @property
    def name(self) -> str:
        return self.path.name

    # -- loading -------------------------------------------------------------------

    def load(self) -> None:
        """Load the weights (call on the worker thread: :meth:`load_blocking`)."""
        start = time.perf_counter()
        self._llm = load_llama(
            str(self.path),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_gpu_layers=self.n_gpu_layers,
            extra_buffers=self.cpu_extra_buffers,
        )
        self._eval = Evaluator(self._llm)
        self.load_s = time.perf_counter() - start
        log.info("loaded %s in %.2f s (n_ctx=%d)", self.path.name, self.load_s, self.n_ctx)

    async def load_async(self) -> None:
        await self.worker.submit(self.load)

    def load_blocking(self) -> None:
        self.worker.call(self.load)

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    # -- tokens --------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        if self._llm is None or not text:
            return max(0, (len(text) + 2) // 3)
        # Tokenizing reads the vocabulary only; safe beside a running decode.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _special_id(self, text: str) -> int | None:
        if text in self._special_ids:
            return self._special_ids[text]
        found = self.info.token_id(text)
        if found is None:
            found = self.info.token_id("▁" + text)  # CodeLlama's "▁<PRE>"
        if found is None:
            ids = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            found = ids[0] if len(ids) == 1 else None
        if found is not None:
            self._special_ids[text] = found
        return found

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        """Token ids for ``prompt``: BOS when the model wants one, specials by id."""
        tokens: list[int] = []
        if self._llm._model.add_bos_token() and self._llm.token_bos() >= 0:
            tokens.append(self._llm.token_bos())
        for segment in prompt.segments:
            if not segment.text:
                continue
            if segment.special:
                token = self._special_id(segment.text)
                if token is not None:
                    tokens.append(token)
                    continue
            tokens.extend(
                self._llm.tokenize(segment.text.encode("utf-8"), add_bos=False, special=False)
            )
        return tokens

    # -- generation ----------------------------------------------------------------

    def _is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token))

    def generate_blocking(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        """Evaluate the prompt (KV reused, in abortable batches), then decode greedily
        on the calling thread (the worker). ``max_tokens=0`` only warms the KV."""
        max_tokens, cancel = limits["max_tokens"], limits.get("cancel")
        deadline = limits.get("deadline")
        if self._llm is None or self._eval is None:
            raise RuntimeError("model not loaded")
        ev = self._eval
        start = time.perf_counter()
        tokens = self.tokenize_prompt(prompt)
        room = self.n_ctx - max_tokens - 1
        if len(tokens) > room:
            # The context builder keeps prompts within budget; this is the last guard.
            tokens = tokens[len(tokens) - room :]
        result = Generation(text="", prompt_tokens=len(tokens))
        with ev.abort.armed(cancel, deadline):
            keep, plan = ev.reuse(tokens)
            result.cached_tokens = keep
            result.moved_tokens = plan.moved
            reached, why = ev.evaluate(tokens, keep, cancel, deadline)
            result.evaluated_tokens = reached - keep
            prompt_done = time.perf_counter()
            result.prompt_ms = (prompt_done - start) * 1000
            if why or max_tokens <= 0:
                result.finish = why or "length"
                return result
            self._decode(result, prompt, len(tokens), max_tokens, cancel, deadline)
        result.decode_ms = (time.perf_counter() - prompt_done) * 1000
        return result

    def _decode(
        self,
        result: Generation,
        prompt: Prompt,
        position: int,
        max_tokens: int,
        cancel: threading.Event | None,
        deadline: float | None,
    ) -> None:
        ev = self._eval
        assert ev is not None
        stopping = Stopping(prompt, max_tokens, cancel, deadline)
        out: list[int] = []
        while True:
            token = ev.greedy()
            if self._is_eog(token):
                stopping.finish = "stop"
                break
            out.append(token)
            text = self._llm.detokenize(out).decode("utf-8", errors="ignore")
            if not stopping.feed(text):
                break
            if not ev.decode([token], position):  # aborted: cancelled or out of time
                if not stopping.interrupted():
                    stopping.finish = "deadline"
                break
            position += 1
        result.text = stopping.text
        result.finish = stopping.finish
        result.decode_tokens = len(out)

    async def complete(self, prompt: Prompt, **limits: Unpack[Limits]) -> Generation:
        cancel = limits.get("cancel")
        warm = limits["max_tokens"] <= 0
        result, queue_ms = await self.worker.submit_timed(
            lambda: self.generate_blocking(prompt, **limits),
            priority=PRIORITY_WARM if warm else PRIORITY_COMPLETION,
            cancel=cancel,
            preemptible=warm,
        )
        result.queue_ms = queue_ms
        return result

    def chat_blocking(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
        also: threading.Event | None = None,
    ) -> str:
        """A short answer; a waiting completion stops it (cut at the last sentence).
        ``also``: the caller's own event, checked between tokens."""
        if self._llm is None or self._eval is None:
            raise RuntimeError("model not loaded")
        parts: list[str] = []
        try:
            with self._eval.abort.armed(cancel, None):
                stream = self._llm.create_chat_completion(
                    messages=messages,
                    max_tokens=min(max_tokens, CHAT_TOKEN_CAP),
                    temperature=0.2,
                    stream=True,
                )
                for chunk in stream:
                    delta = chunk["choices"][0].get("delta", {})
                    parts.append(delta.get("content") or "")
                    if any(e is not None and e.is_set() for e in (cancel, also)):
                        break
        except RuntimeError as exc:  # llama_decode aborted: cancelled or preempted
            if cancel is None or not cancel.is_set():
                raise
            log.debug("chat stopped: %s", exc)
        text = "".join(parts).strip()
        if getattr(cancel, "reason", "") != "preempted":
            return text
        # Typing beats a longer explanation: keep what is said, to the last sentence.
        if not text:
            raise ModelUnavailableError("the model is busy with completions")
        end = max(text.rfind(". "), text.rfind(".\n"))
        return text[: end + 1] if end > 0 else text

    async def chat(self, messages: list[dict[str, str]], **limits: Unpack[ChatLimits]) -> str:
        max_tokens, cancel = limits["max_tokens"], limits.get("cancel")
        # A CancelFlag reaches llama.cpp's abort flag at once (a plain event only between
        # tokens): it is set when the caller cancels the awaiting task or a completion
        # preempts the answer.
        flag = cancel if isinstance(cancel, CancelFlag) else CancelFlag()
        return await self.worker.submit(
            lambda: self.chat_blocking(messages, max_tokens=max_tokens, cancel=flag, also=cancel),
            priority=PRIORITY_CHAT,
            cancel=flag,
            preemptible=True,
        )

    def chat_completion(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        seed: int | None = None,
        schema: dict[str, Any] | None = None,
        cancel: threading.Event | None = None,
        priority: int = PRIORITY_CREW,
    ) -> dict[str, Any]:
        """A whole chat answer (OpenAI's response shape), for the crew: from a thread
        without an event loop, queued behind completions and explanations. ``schema``
        (a JSON schema) becomes a llama.cpp grammar, so the answer matches it."""

        def job() -> dict[str, Any]:
            if self._llm is None or self._eval is None:
                raise RuntimeError("model not loaded")
            with self._eval.abort.armed(cancel, None):
                out: dict[str, Any] = self._llm.create_chat_completion(
                    messages=list(messages),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=seed,
                    grammar=json_grammar(json.dumps(schema)) if schema else None,
                )
            return out

        return self.worker.call(job, priority=priority)

    def close(self) -> None:
        """Stop the worker first; free the model only once no decode can be using it."""
        if not self.worker.stop():
            log.warning("a model call outlived shutdown; leaving the model to the process exit")
            return
        llm, self._llm = self._llm, None
        if llm is not None:
            try:
                llm.close()
            except Exception as exc:  # closing must never fail shutdown
                log.debug("closing llama.cpp: %s", exc)


@functools.lru_cache(maxsize=32)
def json_grammar(schema_json: str) -> Any:
    """A llama.cpp grammar for a JSON schema (key order kept: a tool's name before its
    arguments)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


def create(config: AtollConfig, on_state: StateListener | None) -> Created:
    """The configured GGUF (or the demo model), shared through the registry."""
    from atoll.config.models import ModelNotFoundError, resolve_gguf
    from atoll.models.registry import LocalSpec, registry

    try:
        resolved = resolve_gguf(config)
    except ModelNotFoundError as exc:
        raise BackendError(str(exc)) from None
    try:
        # The loaded model holds the GGUF's header: read once, by the first to load it.
        lease = registry().local(LocalSpec.of(config, resolved.path))
    except GgufError as exc:
        raise BackendError(f"models.gguf: {exc}. Point it at a GGUF model file.") from None
    except Exception as exc:
        raise BackendError(f"llama.cpp could not load {resolved.path}: {exc}") from None
    return Created(lease, lease.info, resolved.demo, resolved.name)


BACKEND = Backend("llama_cpp", create)
