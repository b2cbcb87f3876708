from __future__ import annotations

import json
from pathlib import Path

import pytest

from atoll.bench import BenchContext, Suite, chart, harness, percentiles
from atoll.bench.report import compare, load_results, scalars, write_report


def test_percentiles() -> None:
    assert percentiles([]) == {"n": 0.0, "p50": 0.0, "p95": 0.0, "mean": 0.0}
    stats = percentiles([float(i) for i in range(1, 101)])
    assert stats["p50"] == 50.0 or stats["p50"] == 51.0
    assert stats["p95"] in (95.0, 96.0)
    assert stats["n"] == 100.0


def test_chart_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown chart kind"):
        chart("t", "pie", {"a": [1.0]})


def test_run_report_and_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def good(ctx: BenchContext) -> dict[str, object]:
        return {
            "latency_ms": {"p50": 2.0, "p95": 4.0},
            "ok": True,
            "charts": [
                chart("latency", "hist", {"lsp": [1.0, 2.0, 3.0]}, xlabel="ms"),
                chart("recall", "line", {"hybrid": [0.5, 0.7]}, x=[1, 10]),
                chart("pass@1", "bar", {"crew": [0.2], "single": [0.1]}, x=["calc"]),
            ],
        }

    def broken(ctx: BenchContext) -> dict[str, object]:
        raise RuntimeError("model missing")

    suites = {"good": Suite("good", "works", good), "broken": Suite("broken", "fails", broken)}
    monkeypatch.setattr(harness, "discover_suites", lambda: suites)
    out = tmp_path / "run"
    results = harness.run_suites([], BenchContext(out=out))
    assert results["suites"]["good"]["ok"] is True
    assert results["suites"]["broken"] == {
        "ok": False,
        "error": "RuntimeError: model missing",
        "seconds": results["suites"]["broken"]["seconds"],
    }
    assert json.loads((out / "results.json").read_text())["machine"]["cpus"]

    report = write_report(load_results(out), out).read_text()
    assert "| latency_ms.p95 | 4 |" in report
    assert "**failed**" in report and "model missing" in report
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 3 and all((out / p).stat().st_size > 1000 for p in pngs)

    faster = json.loads((out / "results.json").read_text())
    faster["suites"]["good"]["results"]["latency_ms"]["p95"] = 2.0
    rows = {r["metric"]: r for r in compare(load_results(out), faster)}
    assert rows["good.latency_ms.p95"]["ratio"] == 0.5
    assert "good.ok" not in rows  # booleans are not metrics


def test_output_folder_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = BenchContext(out=Path("results/run"))
    assert ctx.out == tmp_path / "results" / "run"
    assert ctx.scratch("x").is_absolute()


def test_unknown_suite_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="nope"):
        harness.run_suites(["nope"], BenchContext(out=tmp_path))


def test_scalars_skip_non_finite() -> None:
    assert dict(scalars({"a": 1, "b": float("nan"), "c": {"d": 2.5}, "e": [1, 2]})) == {
        "a": 1,
        "c.d": 2.5,
    }
