"""``atoll bench [SUITE...]`` runs benchmark suites; ``atoll bench compare A B`` diffs two runs."""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.common import console, fail, print_json
from atoll.cli.options import AsJson


def _compare(a: Path, b: Path, as_json: bool) -> None:
    from rich.table import Table

    from atoll.bench.report import compare, load_results

    try:
        rows = compare(load_results(a), load_results(b))
    except (OSError, ValueError) as exc:
        fail(f"cannot read results: {exc}")
    if as_json:
        print_json(rows)
        return
    table = Table("metric", "A", "B", "B/A", title=f"{a} → {b}")
    for row in rows:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
        table.add_row(row["metric"], f"{row['a']:.4g}", f"{row['b']:.4g}", ratio)
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        suites: list[str] = typer.Argument(
            None, help="Suites to run (default: all), or `compare A B` to diff two runs."
        ),
        model: str = typer.Option("", "--model", help="GGUF model path to benchmark."),
        endpoint: str = typer.Option("", "--endpoint", help="OpenAI-compatible base URL."),
        out: Path = typer.Option(Path("bench/results/latest"), "--out", help="Output folder."),
        quick: bool = typer.Option(False, "--quick", help="Small sizes: a smoke run."),
        samples: int = typer.Option(
            1, "--samples", min=1, help="Answers per problem (crew suite): pass@k with k = N."
        ),
        options: list[str] = typer.Option(
            [], "--option", "-o", help="A suite option NAME=VALUE (e.g. crew: modes=solo)."
        ),
        list_only: bool = typer.Option(False, "--list", help="List the suites and exit."),
        as_json: AsJson = False,
    ) -> None:
        """Measure speed and quality: writes OUT/results.json, OUT/report.md and PNG charts."""
        from atoll.bench import BenchContext, discover_suites, run_suites
        from atoll.bench.report import write_report

        names = list(suites or [])
        if names[:1] == ["compare"]:
            if len(names) != 3:
                fail("usage: atoll bench compare RUN_A RUN_B", 2)
            _compare(Path(names[1]), Path(names[2]), as_json)
            return
        if list_only:
            found = discover_suites()
            if as_json:
                print_json({n: s.description for n, s in found.items()})
            else:
                for name, suite in found.items():
                    console.print(f"[bold]{name}[/]  {suite.description}")
            return

        def event(kind: str, name: str) -> None:
            if not as_json:
                console.print(f"[cyan]{kind}[/] {name}")

        extra = dict(o.partition("=")[::2] for o in options)
        if any(not k or not v for k, v in extra.items()):
            fail("--option takes NAME=VALUE", 2)
        if samples > 1:
            extra["samples"] = str(samples)
        ctx = BenchContext(out=out, model=model, endpoint=endpoint, quick=quick, options=extra)
        try:
            results = run_suites(names, ctx, on_event=event)
        except KeyError as exc:
            fail(str(exc.args[0]), 2)
        report = write_report(results, out)
        if as_json:
            print_json(results)
        else:
            console.print(f"results: {out / 'results.json'}\nreport:  {report}")
        if not all(entry["ok"] for entry in results["suites"].values()):
            raise typer.Exit(1)
