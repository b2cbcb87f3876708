"""In-process llama.cpp (llama-cpp-python) with a GGUF file.

The model lives on one :class:`~atoll.completion.worker.ModelWorker` thread. Prompts
arrive as segments and are tokenized here: special tokens by id, code with
``special=False`` (so a ``<|endoftext|>`` typed in a file is just text). Decoding
goes token by token through ``Llama.generate``, which reuses the longest common
prefix of the previous prompt in the KV cache; the cancel flag and the deadline are
checked between tokens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atoll.completion.gguf import GgufInfo, read_gguf_metadata
from atoll.completion.protocols import Generation, Prompt
from atoll.completion.worker import PRIORITY_CHAT, PRIORITY_COMPLETION, ModelWorker

log = logging.getLogger(__name__)
# Hover explanations and other chat answers never hold the model longer than this.
CHAT_TOKEN_CAP = 256
# ...and give way to a waiting completion after this many tokens.
CHAT_YIELD_AFTER = 48


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
        self._special_ids: dict[str, int] = {}
        self.load_s = 0.0

    @property
    def name(self) -> str:
        return self.path.name

    # -- loading -------------------------------------------------------------------

    def load(self) -> None:
        """Load the weights (call on the worker thread: :meth:`load_async`)."""
        from llama_cpp import Llama

        protect_stdout()

        start = time.perf_counter()
        kwargs: dict[str, Any] = {
            "model_path": str(self.path),
            "n_ctx": self.n_ctx,
            "n_gpu_layers": self.n_gpu_layers,
            "verbose": False,
        }
        threads = self.n_threads if self.n_threads > 0 else default_threads()
        # The same count for prompt and generation: llama.cpp's threads spin at barriers,
        # and more threads than free cores turns a 20 ms prompt into seconds.
        kwargs["n_threads"] = threads
        kwargs["n_threads_batch"] = threads
        with extra_buffer_types(self.cpu_extra_buffers):
            self._llm = Llama(**kwargs)
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

    def _cached_prefix(self, tokens: list[int]) -> int:
        n = int(self._llm.n_tokens)
        if n == 0:
            return 0
        previous = self._llm.input_ids[:n].tolist()
        same = 0
        for a, b in zip(previous, tokens, strict=False):
            if a != b:
                break
            same += 1
        return same

    def _is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token))

    def generate_blocking(
        self,
        prompt: Prompt,
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Generation:
        """Greedy decode on the calling thread (must be the worker thread)."""
        if self._llm is None:
            raise RuntimeError("model not loaded")
        start = time.perf_counter()
        tokens = self.tokenize_prompt(prompt)
        room = self.n_ctx - max_tokens - 1
        if len(tokens) > room:
            # The context builder keeps prompts within budget; this is the last guard.
            tokens = tokens[len(tokens) - room :]
        result = Generation(text="", prompt_tokens=len(tokens))
        result.cached_tokens = self._cached_prefix(tokens)
        out: list[int] = []
        first_at: float | None = None
        finish = "length"
        stops = prompt.stop
        for token in self._llm.generate(tokens, temp=0.0, top_k=1, reset=True):
            now = time.perf_counter()
            if first_at is None:
                first_at = now
            if self._is_eog(token):
                finish = "stop"
                break
            out.append(token)
            text = self._llm.detokenize(out).decode("utf-8", errors="ignore")
            cut = _first_stop(text, stops)
            if cut is not None:
                result.text = text[:cut]
                finish = "stop"
                break
            result.text = text
            if len(out) >= max_tokens:
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
        end = time.perf_counter()
        first_at = first_at or end
        result.finish = finish
        result.decode_tokens = len(out)
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
        if self._llm is None:
            raise RuntimeError("model not loaded")
        parts: list[str] = []
        stream = self._llm.create_chat_completion(
            messages=messages,
            max_tokens=min(max_tokens, CHAT_TOKEN_CAP),
            temperature=0.2,
            stream=True,
        )
        for n, chunk in enumerate(stream):
            delta = chunk["choices"][0].get("delta", {})
            parts.append(delta.get("content") or "")
            if cancel is not None and cancel.is_set():
                break
            # Yield to a waiting completion once the answer says something: typing
            # beats a longer explanation. Cut at the last finished sentence.
            if n >= CHAT_YIELD_AFTER and self.worker.pending(PRIORITY_COMPLETION):
                text = "".join(parts)
                end = max(text.rfind(". "), text.rfind(".\n"))
                return (text[: end + 1] if end > 0 else text).strip()
        return "".join(parts).strip()

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        cancel: threading.Event | None = None,
    ) -> str:
        return await self.worker.submit(
            lambda: self.chat_blocking(messages, max_tokens=max_tokens, cancel=cancel),
            priority=PRIORITY_CHAT,
            cancel=cancel,
        )

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


class _QuietStderr:
    """llama-cpp-python's ``suppress_stdout_stderr``, minus stdout.

    The original points file descriptor 1 at /dev/null while a model loads. In a
    language server fd 1 *is* the protocol: any reply written meanwhile (from the
    event loop thread) vanishes and the editor waits forever. Only stderr is hushed.
    """

    def __init__(self, disable: bool = True) -> None:
        self.disable = disable
        self._saved = -1

    def __enter__(self) -> _QuietStderr:
        if not self.disable:
            sys.stderr.flush()
            self._saved = os.dup(2)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
        return self

    def __exit__(self, *_: object) -> None:
        if self._saved >= 0:
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._saved = -1


def protect_stdout() -> None:
    """Make llama-cpp-python leave fd 1 alone (see :class:`_QuietStderr`)."""
    import importlib

    for name in ("llama_cpp.llama", "llama_cpp._internals", "llama_cpp.llama_chat_format"):
        module = importlib.import_module(name)
        if getattr(module, "suppress_stdout_stderr", None) is not _QuietStderr:
            setattr(module, "suppress_stdout_stderr", _QuietStderr)  # noqa: B010


@contextlib.contextmanager
def extra_buffer_types(enabled: bool) -> Iterator[None]:
    """Load with llama.cpp's extra CPU buffer types (weight repacking, AMX) on or off.

    They convert weights at load time for wider kernels. On a CPU with AMX and a
    natively built wheel those kernels crash the process at the first decode; a
    language server must not die for a speed-up, so atoll turns them off unless
    ``models.cpu_extra_buffers`` asks for them. ``Llama`` takes no such argument, so
    the default parameters it starts from are adjusted while it loads.
    """
    import llama_cpp.llama_cpp as low  # the module `Llama` calls

    original = low.llama_model_default_params

    def params() -> Any:
        value = original()
        value.use_extra_bufts = enabled
        return value

    low.llama_model_default_params = params
    try:
        yield
    finally:
        low.llama_model_default_params = original


def default_threads() -> int:
    """Half the cores, at most 4 (1 on a 2-core machine that the editor shares)."""
    cores = os.cpu_count() or 1
    return max(1, min(4, cores // 2))


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None
