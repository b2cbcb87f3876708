"""Name an endpoint failure precisely, with its fix: one wording for `atoll doctor` and
for any feature that hits the same fault (the crew, completion, hover).

Plain functions of plain values; no HTTP library is imported, so an engine can call
:func:`explain_exception` on whatever its client raised (openai, httpx) at no cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from atoll.config import env_var_for


@dataclass(frozen=True)
class EndpointSettings:
    """Where an endpoint's URL, model and key come from, for the fix to name."""

    base_url: str
    model: str = ""
    has_key: bool = False
    url_key: str = "agents.endpoint.base_url"
    model_key: str = "agents.endpoint.model"
    api_key_key: str = "agents.endpoint.api_key"


@dataclass(frozen=True)
class Diagnosis:
    detail: str
    fix: str

    def __str__(self) -> str:
        return f"{self.detail}. Fix: {self.fix}"


TOOL_FIX = (
    "vLLM: start it with --enable-auto-tool-choice --tool-call-parser hermes (as "
    "`atoll serve-config vllm` prints); llama.cpp: --chat_format chatml-function-calling; "
    'or set agents.tool_protocol = "text"'
)


def explain_unreachable(where: EndpointSettings, reason: str) -> Diagnosis:
    if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate" in reason.lower():
        return Diagnosis(
            f"{where.base_url}: the server's TLS certificate is not trusted ({reason})",
            "export SSL_CERT_FILE=/etc/atoll/tls/ca.crt (your CA) or fix the certificate's "
            "host name (docs/deployment.md#tls)",
        )
    return Diagnosis(
        f"cannot connect to {where.base_url} ({reason or 'connection failed'}): is the server "
        "running, and is the host/port right?",
        f"start the server (`atoll serve-config vllm` prints its command) or fix {where.url_key}",
    )


def explain_timeout(where: EndpointSettings, seconds: float) -> Diagnosis:
    return Diagnosis(
        f"{where.base_url} did not answer in time ({seconds:.0f} s): server busy, still "
        "loading the model, or a firewall dropping packets",
        f"wait for the model to load, check the firewall, or fix {where.url_key}",
    )


def explain_status(where: EndpointSettings, status: int, message: str) -> Diagnosis:
    """An HTTP error status from an OpenAI-compatible server, in words."""
    lowered = message.lower()
    if status in (401, 403):
        env = env_var_for(where.api_key_key)
        if where.has_key:
            return Diagnosis(
                f"{where.base_url} rejected the API key (HTTP {status}: {message})",
                f"set the server's key in {env} or in the user config ({where.api_key_key})",
            )
        return Diagnosis(
            f"{where.base_url} wants an API key (HTTP {status}) and none is configured "
            f"({where.api_key_key} is empty)",
            f"export {env}=<the server's key>, or put {where.api_key_key} in the user config",
        )
    if status == 404 and "model" in lowered and ("not exist" in lowered or "not found" in lowered):
        return Diagnosis(
            f"{where.model_key} = {where.model!r} is not served by {where.base_url} ({message})",
            f"set {where.model_key} to a model the server lists (`atoll doctor` shows them)",
        )
    if status == 404:
        hint = (
            ""
            if where.base_url.rstrip("/").endswith("/v1")
            else " (OpenAI-compatible URLs end in /v1)"
        )
        return Diagnosis(
            f"no OpenAI-compatible API at {where.base_url}: HTTP 404{hint}",
            f"set {where.url_key} to the server's API root, e.g. http://gpu-box.lan:8000/v1",
        )
    if status == 400 and ("tool" in lowered or "function" in lowered):
        return Diagnosis(f"{where.base_url} does not do tool calling: {message}", TOOL_FIX)
    if status == 400 and ("context" in lowered or "maximum" in lowered or "too long" in lowered):
        return Diagnosis(
            f"{where.base_url} refused a request longer than its context: {message}",
            "raise the server's --max-model-len (deploy.max_model_len) or lower agents.max_tokens",
        )
    return Diagnosis(f"{where.base_url} answered HTTP {status}: {message}", "read the server's log")


def explain_exception(where: EndpointSettings, exc: BaseException) -> Diagnosis:
    """Whatever an openai or httpx client raised, named with its fix."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        body = getattr(exc, "body", None)
        message = body.get("message", "") if isinstance(body, dict) else ""
        return explain_status(where, status, str(message or getattr(exc, "message", exc)))
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if kinds & {"APITimeoutError", "TimeoutException"}:
        return explain_timeout(where, float(getattr(exc, "timeout", 0) or 0))
    if kinds & {"APIConnectionError", "ConnectError", "ConnectionError", "TransportError"}:
        cause = exc.__cause__ or exc.__context__ or exc
        return explain_unreachable(where, str(cause))
    return Diagnosis(f"{where.base_url}: {type(exc).__name__}: {exc}", f"check {where.url_key}")
