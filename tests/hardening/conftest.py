"""The hardening suite drives the real server too: the e2e fixtures, shared."""

from tests.e2e.conftest import client_name, start_server

__all__ = ["client_name", "start_server"]
