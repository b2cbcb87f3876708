"""``atoll bench``: run benchmark suites and write results.json to an output folder."""

from __future__ import annotations

from pathlib import Path

import typer

from atoll.cli.common import JSON_OPTION, console, fail, print_json


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        suites: list[str] = typer.Argument(None, help="Suites to run (default: all)."),
        model: str = typer.Option("", "--model", help="GGUF model path to benchmark."),
        endpoint: str = typer.Option("", "--endpoint", help="OpenAI-compatible base URL."),
        out: Path = typer.Option(Path("bench/results/latest"), "--out", help="Output folder."),
        quick: bool = typer.Option(False, "--quick", help="Small sizes: a smoke run."),
        list_only: bool = typer.Option(False, "--list", help="List the suites and exit."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Measure speed and quality; writes OUT/results.json."""
        from atoll.bench import BenchContext, discover_suites, run_suites

        if list_only:
            found = discover_suites()
            if as_json:
                print_json({n: s.description for n, s in found.items()})
            else:
                for name, suite in found.items():
                    console.print(f"[bold]{name}[/]  {suite.description}")
            return
        ctx = BenchContext(out=out, model=model, endpoint=endpoint, quick=quick)

        def event(kind: str, name: str) -> None:
            if not as_json:
                console.print(f"[cyan]{kind}[/] {name}")

        try:
            results = run_suites(suites or [], ctx, on_event=event)
        except KeyError as exc:
            fail(str(exc.args[0]), 2)
        if as_json:
            print_json(results)
        else:
            console.print(f"results: {out / 'results.json'}")
        if not all(entry["ok"] for entry in results["suites"].values()):
            raise typer.Exit(1)
