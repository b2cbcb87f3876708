"""The explainer: one model call per content hash, bounded waits, budgets, cancellation."""

from __future__ import annotations

import asyncio

from atoll.explain import Explainer
from tests.scripted_model import ScriptedModel

MESSAGES = [{"role": "user", "content": "explain add"}]


async def test_second_request_is_served_from_the_cache() -> None:
    chat = ScriptedModel("Adds two numbers. It is pure.")
    explainer = Explainer(chat)
    assert explainer.ensure("h1", MESSAGES, max_tokens=32, budget_s=5)
    assert explainer.ensure("h1", MESSAGES, max_tokens=32, budget_s=5)  # joins the flight
    assert await explainer.wait("h1", 5) == "Adds two numbers. It is pure."
    assert not explainer.ensure("h1", MESSAGES, max_tokens=32, budget_s=5)
    assert explainer.cached("h1") == "Adds two numbers. It is pure."
    assert len(chat.calls) == 1
    assert explainer.status()["generated"] == 1


async def test_wait_is_bounded_and_the_explanation_still_lands() -> None:
    chat = ScriptedModel("Slow answer.", delay_s=0.3)
    explainer = Explainer(chat)
    explainer.ensure("h", MESSAGES, max_tokens=32, budget_s=5)
    assert await explainer.wait("h", 0) is None
    assert await explainer.wait("h", 0.01) is None
    assert explainer.in_flight("h")
    assert await explainer.wait("h", 5) == "Slow answer."
    assert not explainer.in_flight("h")


async def test_budget_cancels_the_decode_and_is_not_retried_at_once() -> None:
    chat = ScriptedModel("Too late.", delay_s=5)
    explainer = Explainer(chat)
    explainer.ensure("h", MESSAGES, max_tokens=32, budget_s=0.05)
    assert await explainer.wait("h", 5) is None
    assert chat.cancelled[0].is_set()
    assert explainer.status()["timeouts"] == 1
    assert not explainer.ensure("h", MESSAGES, max_tokens=32, budget_s=0.05)
    assert len(chat.calls) == 1


async def test_model_failure_is_contained() -> None:
    explainer = Explainer(ScriptedModel("boom"))
    explainer.ensure("h", MESSAGES, max_tokens=32, budget_s=5)
    assert await explainer.wait("h", 5) is None
    assert explainer.status()["errors"] == 1


async def test_cancel_all_stops_running_work() -> None:
    chat = ScriptedModel("Never.", delay_s=5)
    explainer = Explainer(chat)
    explainer.ensure("h", MESSAGES, max_tokens=32, budget_s=10)
    await asyncio.sleep(0.02)
    await explainer.aclose()
    assert chat.cancelled[0].is_set()
    assert not explainer.in_flight("h") and explainer.cached("h") is None


async def test_cache_is_bounded() -> None:
    explainer = Explainer(ScriptedModel("Yes."), cache_size=2)
    for key in ("a", "b", "c"):
        explainer.ensure(key, MESSAGES, max_tokens=8, budget_s=5)
        await explainer.wait(key, 5)
    assert explainer.cached("a") is None and explainer.cached("c") == "Yes."


def test_without_a_model_nothing_starts() -> None:
    explainer = Explainer(None)
    assert not explainer.ensure("h", MESSAGES, max_tokens=8, budget_s=1)
    assert explainer.status()["available"] is False
