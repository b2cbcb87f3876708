"""Progress on the terminal for long work: one bar per phase, like uv and ruff show it.

Indexing reports ``progress(done, total, current)`` per file, and may name its phase
(``phase="embedding"``, counting chunks). A phase that ends with more work still to do
behind it (embedding, reference counts) leaves a spinner with the elapsed time, so a
finished file count is never the last thing on the screen while the work goes on.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

# What each phase counts, for the bar's label.
UNITS = {"parsing": "files", "embedding": "chunks"}


class PhaseProgress:
    """A callable ``(done, total, current="", phase="parsing")`` drawing one bar per phase.

    ``after[phase]`` names the work that follows a phase (shown as a spinner with the
    elapsed time once its bar is full, until the next phase starts or the work ends);
    ``enabled=False`` draws nothing (``--json``, output that is not a terminal).
    """

    def __init__(
        self, console: Console, *, enabled: bool = True, after: dict[str, str] | None = None
    ) -> None:
        self.enabled = enabled and console.is_terminal
        self.after = after or {}
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[phase]:<10}"),
            BarColumn(),
            # "done/total unit" for a phase; nothing for the spinner that follows one.
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.description}"),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._tail: TaskID | None = None

    def __enter__(self) -> PhaseProgress:
        if self.enabled:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled:
            self._bar.stop()

    def _task(self, phase: str) -> TaskID:
        if phase not in self._tasks:
            self._finish_tail()
            unit = UNITS.get(phase, "")
            # The count column starts as the unit alone, until the first report.
            self._tasks[phase] = self._bar.add_task("", total=None, phase=phase, count=unit)
        return self._tasks[phase]

    def _finish_tail(self) -> None:
        if self._tail is not None:
            self._bar.remove_task(self._tail)
            self._tail = None

    def __call__(self, done: int, total: int, current: str = "", phase: str = "parsing") -> None:
        if not self.enabled:
            return
        task = self._task(phase)
        count = f"{done}/{total} {UNITS.get(phase, '')}".rstrip()
        self._bar.update(task, completed=done, total=total, description=current[-50:], count=count)
        then = self.after.get(phase, "")
        if done >= total and then and self._tail is None:
            # The bar is full but the command is not done: say what it is doing now.
            self._tail = self._bar.add_task(then, total=None, phase="then", count="")
