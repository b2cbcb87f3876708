"""Turn a ``results.json`` into ``report.md`` with PNG charts, and compare two runs."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Number = int | float


def load_results(path: Path) -> dict[str, Any]:
    """A run's results from its folder or its ``results.json``."""
    file = path / "results.json" if path.is_dir() else path
    data: dict[str, Any] = json.loads(file.read_text())
    return data


def scalars(data: Any, prefix: str = "") -> Iterator[tuple[str, Number]]:
    """Every numeric leaf as (dotted path, value); lists and charts are skipped."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "charts":
                continue
            yield from scalars(value, f"{prefix}{key}.")
    elif isinstance(data, bool):
        return
    elif isinstance(data, int | float) and math.isfinite(data):
        yield prefix.rstrip("."), data


def all_charts(data: Any) -> Iterator[dict[str, Any]]:
    """Every chart spec in a suite's results, at any depth (``charts`` lists)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "charts" and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict) and "series" in c)
            else:
                yield from all_charts(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def draw_chart(spec: dict[str, Any], target: Path) -> Path:
    """Draw one chart spec (see :func:`atoll.bench.harness.chart`) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    series: dict[str, list[float]] = spec["series"]
    kind = spec["kind"]
    if kind == "hist":
        for name, values in series.items():
            if values:
                ax.hist(values, bins=30, alpha=0.6, label=name)
    elif kind == "line":
        for name, values in series.items():
            xs = spec.get("x") or list(range(len(values)))
            ax.plot(xs[: len(values)], values, marker="o", label=name)
    else:
        labels = [str(v) for v in (spec.get("x") or [])]
        width = 0.8 / max(1, len(series))
        for i, (name, values) in enumerate(series.items()):
            xs = [j + i * width for j in range(len(values))]
            ax.bar(xs, values, width=width, label=name)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], labels, rotation=20)
    ax.set_title(spec["title"])
    ax.set_xlabel(spec.get("xlabel", ""))
    ax.set_ylabel(spec.get("ylabel", ""))
    if len(series) > 1 or kind != "bar":
        ax.legend()
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return target


def write_report(results: dict[str, Any], out: Path) -> Path:
    """Write ``report.md`` and one PNG per chart into ``out``; return the report path."""
    machine = results.get("machine", {})
    lines = [
        "# atoll benchmark report",
        "",
        f"- commit `{machine.get('commit', '?')}`, {machine.get('time', '?')}",
        f"- {machine.get('cpus', '?')} CPUs, {machine.get('memory_gib', '?')} GiB, "
        f"{machine.get('platform', '?')}, Python {machine.get('python', '?')}",
        f"- model: {results.get('model', '?')}; endpoint: {results.get('endpoint', '?')}"
        + ("; quick run" if results.get("quick") else ""),
        "- versions: "
        + ", ".join(f"{k} {v}" for k, v in sorted(machine.get("versions", {}).items())),
        "",
    ]
    for name, entry in results.get("suites", {}).items():
        lines += [f"## {name}", ""]
        if not entry.get("ok"):
            lines += [f"**failed** after {entry.get('seconds')} s: `{entry.get('error')}`", ""]
            continue
        lines += [f"{entry.get('seconds')} s", "", "| metric | value |", "| --- | --- |"]
        data = entry.get("results", {})
        for key, value in scalars(data):
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"| {key} | {shown} |")
        lines.append("")
        for spec in all_charts(data):
            png = draw_chart(spec, out / f"{_slug(name)}-{_slug(spec['title'])}.png")
            lines += [f"![{spec['title']}]({png.name})", ""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Metrics present in both runs, with B/A ratios (``None`` where A is zero)."""
    left = {
        f"{s}.{k}": v
        for s, e in a.get("suites", {}).items()
        for k, v in scalars(e.get("results", {}))
    }
    right = {
        f"{s}.{k}": v
        for s, e in b.get("suites", {}).items()
        for k, v in scalars(e.get("results", {}))
    }
    rows = []
    for key in sorted(left.keys() & right.keys()):
        before, after = left[key], right[key]
        ratio = round(after / before, 3) if before else None
        rows.append({"metric": key, "a": before, "b": after, "ratio": ratio})
    return rows
