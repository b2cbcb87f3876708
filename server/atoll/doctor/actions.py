"""How the crew's answers become actions on a server: what it supports, what is used.

Small models "explain instead of act" unless something holds them to an action: a
server that forces tool calls (``tool_choice: "required"``) or takes a JSON schema for
its output (structured output). This check probes for both, in the request shapes of
vLLM, llama.cpp's servers and others, and names the decoding the crew will use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from atoll.agents.decoding import Post, choose_decoding, detect
from atoll.doctor.checks import CheckResult, Status

Send = Callable[..., tuple[httpx.Response, float]]
USES = {
    "native": "native tool calls",
    "constrained": "constrained output (a JSON schema per role)",
    "text": "the text protocol (fenced action blocks; small models often fail it)",
}
FIX = (
    "vLLM: --enable-auto-tool-choice --tool-call-parser hermes (tool_choice required and "
    "structured output then work); llama.cpp: python -m llama_cpp.server takes a schema "
    'as is; or set agents.tool_protocol = "constrained" / "native"'
)


def _poster(send: Send) -> Post:
    """A chat completion's JSON from ``send(json=body)``; None when the server refused it."""

    def post(body: dict[str, Any]) -> dict[str, Any] | None:
        response, _ = send(json=body)
        try:
            answer = response.json() if response.status_code == 200 else None
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    return post


def actions_result(send: Send, label: str, model: str, protocol: Any) -> CheckResult:
    """One line: what the server supports, and which decoding ``protocol`` picks from it.

    ``send(json=body)`` posts a chat completion and returns ``(response, seconds)``.
    """
    name = f"{label}: actions"
    if protocol == "text":
        return CheckResult(name, Status.SKIP, 'agents.tool_protocol = "text": nothing to probe')
    caps = detect(_poster(send), model)
    decoding = choose_decoding(protocol, caps)
    if decoding == "native" and caps.required:
        uses = "native tool calls, forced (tool_choice required)"
    else:
        uses = USES[decoding]
    detail = f"supports {caps.describe()}; the crew uses {uses}"
    reliable = decoding == "constrained" or (decoding == "native" and caps.required)
    if reliable:
        return CheckResult(name, Status.OK, detail)
    return CheckResult(name, Status.WARN, detail, FIX, required=False)
