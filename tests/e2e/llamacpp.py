"""``python -m llama_cpp.server``, started the way the tests need it.

On a CPU with AMX, a natively built llama-cpp-python crashes at the first decode
unless its extra CPU buffer types are off (see docs/models.md). The server has no such
switch, so it runs inside the same guard atoll's own loader uses.
"""

from __future__ import annotations

import sys

LAUNCH = (
    "import runpy, sys\n"
    "from atoll.models.llama_load import extra_buffer_types\n"
    "sys.argv[0] = 'llama_cpp.server'\n"
    "with extra_buffer_types(False):\n"
    "    runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n"
)


def server_command(*args: str) -> list[str]:
    """The command line of a llama.cpp server taking ``args`` (``--model`` ...)."""
    return [sys.executable, "-c", LAUNCH, *args]
