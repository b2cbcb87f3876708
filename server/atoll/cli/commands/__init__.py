"""One module per subcommand, each with ``register(app: typer.Typer)``."""
