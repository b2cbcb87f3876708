"""``atoll.status``: what the server holds right now (for status bars, doctor and tests)."""

from __future__ import annotations

import hashlib
from typing import Any

from atoll.server.app import AtollServer

STATUS_COMMAND = "atoll.status"


def server_status(server: AtollServer) -> dict[str, Any]:
    """A JSON-able snapshot: root, open buffers with versions and digests, config issues."""
    documents = [
        {
            "uri": uri,
            "version": doc.version,
            "length": len(doc.source),
            "sha256": hashlib.sha256(doc.source.encode("utf-8", "surrogatepass")).hexdigest(),
        }
        for uri, doc in sorted(server.workspace.text_documents.items())
    ]
    status: dict[str, Any] = {
        "version": server.version,
        "root": str(server.root) if server.root else None,
        "documents": documents,
        "config_issues": [str(issue) for issue in server.loaded.issues],
    }
    for name, provider in sorted(server.status_providers.items()):
        try:
            status[name] = provider()
        except Exception as exc:
            status[name] = {"error": repr(exc)}
    return status


def status(ls: AtollServer, *args: Any) -> dict[str, Any]:
    """The ``atoll.status`` command (its arguments are ignored)."""
    return server_status(ls)


def register(server: AtollServer) -> None:
    server.command(STATUS_COMMAND)(status)
