"""The ``atoll`` command line. Each subcommand is one module under ``commands/``."""
