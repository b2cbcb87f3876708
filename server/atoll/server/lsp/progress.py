"""One work-done progress bar for long work (indexing, a crew run).

A no-op when the client has no work-done progress or refuses the token, so a feature
calls it unconditionally. :meth:`WorkDone.report` may be called from a worker thread;
reports are throttled, and none is sent after :meth:`WorkDone.end`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from atoll.server.lsp import capabilities

log = logging.getLogger(__name__)
CREATE_TIMEOUT_S = 10.0


class WorkDone:
    """``window/workDoneProgress`` for one piece of work.

    ``cancel``: an event set when the user presses the bar's cancel button (the bar is
    cancellable only with one). ``every_s``: the least time between two reports.
    """

    def __init__(
        self,
        server: LanguageServer,
        *,
        name: str,
        cancel: threading.Event | None = None,
        every_s: float = 0.0,
    ) -> None:
        self.server = server
        self.name = name
        self.cancel = cancel
        self.every_s = every_s
        self.token: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last = 0.0

    async def begin(
        self, title: str, message: str | None = None, *, percentage: int | None = None
    ) -> None:
        """Show the bar (waits for the client to accept the token, at most 10 s)."""
        if not capabilities.work_done_progress(self.server.client_capabilities):
            return
        token = f"atoll-{self.name}-{uuid.uuid4().hex[:8]}"
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), timeout=CREATE_TIMEOUT_S)
        except Exception as exc:
            log.info("no progress bar for %s (%s)", self.name, exc)
            return
        self._loop = asyncio.get_running_loop()
        self.token = token
        cancellable = self.cancel is not None
        progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=title, message=message, percentage=percentage, cancellable=cancellable
            ),
        )
        future = progress.tokens.get(token)
        if future is not None and self.cancel is not None:
            event = self.cancel
            future.add_done_callback(lambda f: event.set() if f.cancelled() else None)

    def report(self, message: str, *, percentage: int | None = None, force: bool = False) -> None:
        """Update the bar (from any thread); dropped within ``every_s`` of the last one
        unless ``force``."""
        loop = self._loop
        if self.token is None or loop is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        cancellable = True if self.cancel is not None else None
        value = types.WorkDoneProgressReport(
            message=message, percentage=percentage, cancellable=cancellable
        )
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._send(value)
        else:
            loop.call_soon_threadsafe(self._send, value)

    def _send(self, value: types.WorkDoneProgressReport) -> None:
        if self.token is not None:  # not ended meanwhile
            self.server.work_done_progress.report(self.token, value)

    def end(self, message: str) -> None:
        """Close the bar (on the event loop)."""
        token, self.token = self.token, None
        if token is not None:
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            self.server.work_done_progress.tokens.pop(token, None)
