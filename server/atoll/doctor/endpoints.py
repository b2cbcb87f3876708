"""Checks of each configured OpenAI-compatible endpoint (vLLM, llama.cpp's server, ...).

For each distinct server: reachable, the key accepted, the model list, the configured
model served, tool calling (for the agents) and the round-trip latency. Every failure
names the setting to change. Keys go in the Authorization header and nowhere else.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from atoll.agents.decoding import PROBE_TOOL, PROBE_TOOL_MESSAGES
from atoll.config import AtollConfig
from atoll.doctor.actions import actions_result
from atoll.doctor.checks import CheckResult, DoctorContext, Status, check
from atoll.doctor.explain import (
    TOOL_FIX,
    Diagnosis,
    EndpointSettings,
    explain_status,
    explain_timeout,
    explain_unreachable,
)


@dataclass(frozen=True)
class Endpoint:
    """One server as atoll's features use it; ``users`` are the features that call it."""

    base_url: str
    model: str
    api_key: str
    users: tuple[str, ...]
    # The settings a fix names: where the URL, model and key come from.
    url_key: str
    model_key: str
    api_key_key: str
    needs_tools: bool

    @property
    def label(self) -> str:
        return "endpoint " + ", ".join(self.users)

    @property
    def settings(self) -> EndpointSettings:
        return EndpointSettings(
            self.base_url,
            self.model,
            bool(self.api_key),
            self.url_key,
            self.model_key,
            self.api_key_key,
        )


def configured_endpoints(config: AtollConfig) -> list[Endpoint]:
    """The distinct (URL, model, key) endpoints the configuration points at."""
    uses: list[tuple[str, str, str, str, str, str, str, bool]] = []
    comp = config.completion.endpoint
    if comp.base_url:
        uses.append(
            (
                comp.base_url,
                comp.model,
                comp.api_key,
                "completion",
                "completion.endpoint.base_url",
                "completion.endpoint.model",
                "completion.endpoint.api_key",
                False,
            )
        )
    agents = config.agents.endpoint
    for role in config.agents.roles:
        role_config = getattr(config.agents, role, None)
        url = getattr(role_config, "base_url", "") or agents.base_url
        model = getattr(role_config, "model", "") or agents.model
        if not url:
            continue
        own_url = bool(getattr(role_config, "base_url", ""))
        own_model = bool(getattr(role_config, "model", ""))
        uses.append(
            (
                url,
                model,
                agents.api_key,
                f"agents.{role}",
                f"agents.{role}.base_url" if own_url else "agents.endpoint.base_url",
                f"agents.{role}.model" if own_model else "agents.endpoint.model",
                "agents.endpoint.api_key",
                True,
            )
        )
    grouped: dict[tuple[str, str, str], Endpoint] = {}
    for url, model, key, user, url_key, model_key, key_key, tools in uses:
        ident = (url.rstrip("/"), model, key)
        if ident in grouped:
            old = grouped[ident]
            grouped[ident] = Endpoint(
                old.base_url,
                old.model,
                old.api_key,
                (*old.users, user),
                old.url_key,
                old.model_key,
                old.api_key_key,
                old.needs_tools or tools,
            )
        else:
            grouped[ident] = Endpoint(
                url.rstrip("/"), model, key, (user,), url_key, model_key, key_key, tools
            )
    return list(grouped.values())


def _server_message(response: httpx.Response) -> str:
    """The error text an OpenAI-compatible server put in its body, shortened."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message", body)))
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err)[:200]
    return str(body)[:200]


class ProbeError(Exception):
    """A probe step failed; ``fix`` says what to change."""

    def __init__(self, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> ProbeError:
        return cls(diagnosis.detail, diagnosis.fix)


def _request(
    client: httpx.Client, ep: Endpoint, method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, float]:
    url = ep.base_url + path
    start = time.perf_counter()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.ConnectError as exc:
        raise ProbeError.of(explain_unreachable(ep.settings, str(exc))) from None
    except httpx.TimeoutException:
        raise ProbeError.of(explain_timeout(ep.settings, client.timeout.read or 0)) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ProbeError(
            f"{ep.url_key} = {ep.base_url!r} is not a usable URL ({exc})",
            f"set {ep.url_key} to e.g. http://gpu-box.lan:8000/v1",
        ) from None
    except httpx.HTTPError as exc:
        raise ProbeError(f"{url}: {type(exc).__name__}: {exc}", f"check {ep.url_key}") from None
    elapsed = time.perf_counter() - start
    if response.status_code in (401, 403):
        raise ProbeError.of(
            explain_status(ep.settings, response.status_code, _server_message(response))
        )
    return response, elapsed


def _models(client: httpx.Client, ep: Endpoint) -> tuple[list[str], float]:
    response, elapsed = _request(client, ep, "GET", "/models")
    if response.status_code == 404:
        raise ProbeError.of(explain_status(ep.settings, 404, ""))
    if response.status_code != 200:
        raise ProbeError(
            f"GET {ep.base_url}/models gave HTTP {response.status_code}: "
            f"{_server_message(response)}",
            "read the server's log",
        )
    try:
        data = response.json()["data"]
        ids = [str(item["id"]) for item in data]
    except (ValueError, KeyError, TypeError):
        raise ProbeError(
            f"{ep.base_url}/models did not answer an OpenAI model list: is this the right port?",
            f"check {ep.url_key}",
        ) from None
    return ids, elapsed


def _model_result(ep: Endpoint, ids: list[str]) -> CheckResult:
    name = f"{ep.label}: model"
    listing = ", ".join(ids) or "nothing"
    if not ep.model:
        if len(ids) == 1:
            return CheckResult(name, Status.OK, f"{ids[0]} (the only one served; no model set)")
        return CheckResult(
            name,
            Status.FAIL,
            f"{ep.model_key} is empty and the server offers {listing}",
            f"set {ep.model_key} to one of them",
        )
    if ep.model in ids:
        return CheckResult(name, Status.OK, ep.model)
    return CheckResult(
        name,
        Status.FAIL,
        f"{ep.model_key} = {ep.model!r} is not served by {ep.base_url}; it serves: {listing}",
        f"set {ep.model_key} to one of those, or start the server with --served-model-name "
        f"{ep.model}",
    )


def _tool_call(client: httpx.Client, ep: Endpoint, model: str, tool_choice: Any) -> str:
    """ "" when the answer is a tool call, else what the server did instead."""
    body = {
        "model": model,
        "messages": PROBE_TOOL_MESSAGES,
        "tools": [PROBE_TOOL],
        "tool_choice": tool_choice,
        "max_tokens": 32,
        "temperature": 0,
    }
    response, _ = _request(client, ep, "POST", "/chat/completions", json=body)
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {_server_message(response)}"
    try:
        message = response.json()["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "an answer that is not an OpenAI chat completion"
    calls = message.get("tool_calls") or []
    if calls and calls[0].get("function", {}).get("name") == PROBE_TOOL["function"]["name"]:
        try:
            json.loads(calls[0]["function"].get("arguments") or "{}")
        except ValueError:
            return "a tool call whose arguments are not JSON"
        return ""
    text = str(message.get("content") or "")[:60]
    return f"plain text instead of a tool call ({text!r})"


def _tools_result(client: httpx.Client, ep: Endpoint, model: str, native: bool) -> CheckResult:
    name = f"{ep.label}: tool calling"
    start = time.perf_counter()
    auto = _tool_call(client, ep, model, "auto")
    if not auto:
        ms = (time.perf_counter() - start) * 1000
        return CheckResult(
            name, Status.OK, f"native tool calls work (tool_choice auto, {ms:.0f} ms)"
        )
    forced = _tool_call(client, ep, model, {"type": "function", "function": PROBE_TOOL["function"]})
    status = Status.FAIL if native else Status.WARN
    fallback = "" if native else "; the crew falls back to its text tool protocol"
    if not forced:
        detail = (
            "tool calls work only when tool_choice names the function; with tool_choice "
            f"auto the server gave {auto}"
        )
    else:
        detail = f"no tool calling: {auto}{fallback}"
    return CheckResult(name, status, detail + fallback, TOOL_FIX, required=native)


def _latency_result(client: httpx.Client, ep: Endpoint, model: str) -> CheckResult:
    """One tiny completion: what a keystroke costs on this server."""
    name = f"{ep.label}: round trip"
    body = {"model": model, "prompt": "def add(a, b):", "max_tokens": 1, "temperature": 0}
    response, elapsed = _request(client, ep, "POST", "/completions", json=body)
    if response.status_code != 200:
        return CheckResult(
            name,
            Status.FAIL,
            f"POST /completions gave HTTP {response.status_code}: {_server_message(response)}",
            "completion needs the /v1/completions route (vLLM and llama.cpp have it)",
        )
    return CheckResult(name, Status.OK, f"{elapsed * 1000:.0f} ms for a one-token completion")


def _remote_fim_result(ep: Endpoint, model: str) -> CheckResult:
    """A remote model's tokenizer is out of reach: completion goes by its name."""
    from atoll.completion import detect_template

    template = detect_template(model_name=model)
    name = f"{ep.label}: fim template"
    if template.fim:
        return CheckResult(name, Status.OK, f"{template.name} (from the model name {model!r})")
    return CheckResult(
        name,
        Status.WARN,
        f"no FIM template known for {model!r}: completion sends only the text before the cursor",
        'set completion.fim_template (e.g. "qwen") if the model supports fill-in-the-middle',
        required=False,
    )


def _transport_note(ep: Endpoint) -> CheckResult | None:
    host = urlsplit(ep.base_url).hostname or ""
    if not ep.base_url.startswith("http://") or host in ("localhost", "127.0.0.1", "::1"):
        return None
    return CheckResult(
        f"{ep.label}: transport",
        Status.WARN,
        f"plain HTTP to {host}: code and key cross the network unencrypted",
        "put the server behind the TLS reverse proxy in deploy/nginx/ (docs/deployment.md)",
        required=False,
    )


def probe_endpoint(
    ep: Endpoint,
    timeout_s: float,
    *,
    native_tools: bool,
    text_tools: bool = False,
    protocol: str = "auto",
) -> list[CheckResult]:
    """Every check of one endpoint, stopping at the first step that makes the rest moot."""
    headers = {"Authorization": f"Bearer {ep.api_key}"} if ep.api_key else {}
    # Connecting must be quick; generating a few tokens on a busy GPU may take longer.
    timeout = httpx.Timeout(max(10.0, timeout_s * 3), connect=timeout_s)
    results: list[CheckResult] = []
    with httpx.Client(headers=headers, timeout=timeout) as client:
        try:
            ids, elapsed = _models(client, ep)
            results.append(
                CheckResult(
                    f"{ep.label}: reachable",
                    Status.OK,
                    f"{ep.base_url} answered in {elapsed * 1000:.0f} ms; models: {', '.join(ids)}",
                )
            )
            model_result = _model_result(ep, ids)
            results.append(model_result)
            if model_result.status is Status.FAIL:
                return results
            model = ep.model or ids[0]
            if "completion" in ep.users:
                results.append(_latency_result(client, ep, model))
                results.append(_remote_fim_result(ep, model))
            if ep.needs_tools and text_tools:
                results.append(
                    CheckResult(
                        f"{ep.label}: tool calling",
                        Status.SKIP,
                        'agents.tool_protocol = "text": the crew does not use native tool calls',
                    )
                )
            elif ep.needs_tools:
                results.append(_tools_result(client, ep, model, native_tools))
            if ep.needs_tools:
                send = functools.partial(_request, client, ep, "POST", "/chat/completions")
                results.append(actions_result(send, ep.label, model, protocol))
        except ProbeError as exc:
            step = "reachable" if not results else "request"
            results.append(CheckResult(f"{ep.label}: {step}", Status.FAIL, exc.detail, exc.fix))
    note = _transport_note(ep)
    return [*results, note] if note else results


@check
def openai_endpoints(ctx: DoctorContext) -> list[CheckResult]:
    config = ctx.loaded.config
    endpoints = configured_endpoints(config)
    results: list[CheckResult] = []
    if config.completion.backend == "openai" and not config.completion.endpoint.base_url:
        results.append(
            CheckResult(
                "endpoint completion",
                Status.FAIL,
                'completion.backend = "openai" but completion.endpoint.base_url is empty',
                'set completion.endpoint.base_url, or completion.backend = "auto"',
                required=config.completion.enabled,
            )
        )
    elif not any("completion" in ep.users for ep in endpoints):
        results.append(
            CheckResult(
                "endpoint completion",
                Status.SKIP,
                "completion runs in-process with llama.cpp (completion.endpoint.base_url unset)",
            )
        )
    if not any(ep.needs_tools for ep in endpoints):
        results.append(
            CheckResult(
                "endpoint agents",
                Status.SKIP,
                "no agents endpoint configured: the crew runs in-process on the local model "
                "(agents.mode auto: the solo agent; a grammar holds its answers to actions)",
                "set agents.endpoint.base_url (and .model) to the GPU box's vLLM",
                required=False,
            )
        )
    native = config.agents.tool_protocol == "native"
    for ep in endpoints:
        text = config.agents.tool_protocol == "text"
        results.extend(
            probe_endpoint(
                ep,
                ctx.timeout_s,
                native_tools=native,
                text_tools=text,
                protocol=config.agents.tool_protocol,
            )
        )
    return results
