"""One thin module per LSP feature. Each exposes ``register(server: AtollServer)``.

Modules here are discovered at start-up; adding a feature is adding a module.
Keep them thin: convert LSP types to plain values, call an engine, convert back.
"""
