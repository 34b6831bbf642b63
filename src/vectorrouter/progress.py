"""One progress bar for every long job (ingest, backfills, embedding runs): count, rate and ETA on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["progress"]


class progress:  # noqa: N801 - reads like a function at the call site: `with progress(...) as advance:`
    """Context manager yielding ``advance(n)``.

    Shown when ``enabled`` is True, or when it is None and stderr is a terminal; otherwise a no-op,
    so library calls stay quiet in services and tests. The column after the percentage shows the rate
    (``1,234 rec/s``), or ``status()`` when a job has something better to say there (a backfill's spend
    against its estimate); it is read again at every ``advance``.

    >>> with progress(False, 10, "demo") as advance:
    ...     advance(10)
    """

    def __init__(
        self,
        enabled: bool | None,
        total: int | None,
        label: str,
        unit: str = "rec",
        *,
        status: Callable[[], str] | None = None,
    ) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total = total
        self.label = label
        self.unit = unit
        self.status = status
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled or self.total == 0:
            return lambda n: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        bar.start()
        status = self.status
        task = bar.add_task(self.label, total=self.total, note=status() if status is not None else "")

        def advance(n: int) -> None:
            bar.advance(task, n)
            if status is not None:
                bar.update(task, note=status())
            elif speed := bar.tasks[0].speed:
                bar.update(task, note=f"{speed:,.0f} {self.unit}/s")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
