"""One progress bar for every long job (ingest, backfills, embedding runs): count, rate and ETA on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["progress"]


class progress:  # noqa: N801 - reads like a function at the call site: `with progress(...) as advance:`
    """Context manager yielding ``advance(n)``.

    Shown when ``enabled`` is True, or when it is None and stderr is a terminal; otherwise a no-op,
    so library calls stay quiet in services and tests.

    >>> with progress(False, 10, "demo") as advance:
    ...     advance(10)
    """

    def __init__(self, enabled: bool | None, total: int | None, label: str, unit: str = "rec") -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total = total
        self.label = label
        self.unit = unit
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

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total, rate="")

        def advance(n: int) -> None:
            self._bar.advance(task, n)
            speed = self._bar.tasks[0].speed
            if speed:
                self._bar.update(task, rate=f"{speed:,.0f} {self.unit}/s")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
