"""atoll's language server (pygls)."""

from atoll.server.app import AtollServer, create_server

__all__ = ["AtollServer", "create_server"]
