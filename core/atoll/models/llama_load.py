"""Loading llama.cpp in a language server: stdout left alone, risky CPU buffers off.

Every in-process model loads through :func:`load_llama`: the protocol runs on stdout,
and some CPUs crash in llama.cpp's extra buffer types (see :func:`extra_buffer_types`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


def load_llama(
    path: str, *, n_ctx: int, n_threads: int, n_gpu_layers: int, extra_buffers: bool
) -> Any:
    """A ``llama_cpp.Llama`` for ``path``, loaded the safe way (call on the model's worker)."""
    from llama_cpp import Llama

    protect_stdout()
    threads = n_threads if n_threads > 0 else default_threads()
    with extra_buffer_types(extra_buffers):
        # The same count for prompt and generation: llama.cpp's threads spin at barriers,
        # and more threads than free cores turns a 20 ms prompt into seconds.
        return Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_gpu_layers=n_gpu_layers,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )


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
