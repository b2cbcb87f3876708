"""atoll's benchmarks: one harness, many suites.

A suite is a module in this package with ``SUITE = Suite(name, description, run)``
where ``run(ctx: BenchContext) -> dict`` returns JSON-able numbers. ``atoll bench``
runs suites and writes ``results.json`` (plus a markdown report) to ``--out``.
Speed and memory targets live here, never as timing asserts in tests.
"""

from atoll.bench.harness import (
    BenchContext,
    Suite,
    chart,
    discover_suites,
    percentiles,
    run_suites,
)

__all__ = ["BenchContext", "Suite", "chart", "discover_suites", "percentiles", "run_suites"]
