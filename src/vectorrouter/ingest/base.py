"""The queue protocol: at-least-once delivery with acknowledgement, delayed retry and a dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from vectorrouter.ingest.events import Delivery, IngestEvent

__all__ = ["IngestQueue"]


@runtime_checkable
class IngestQueue(Protocol):
    """Every event put is eventually acknowledged (written) or dead-lettered — never dropped.

    A delivery that is neither acked, retried nor dead-lettered within ``visibility_timeout`` seconds (its
    consumer crashed) is handed to another consumer.
    """

    name: str

    def put(self, event: IngestEvent) -> None:
        """Accept the event durably, or raise; a returned call means the event will not be lost."""

    def claim(self, consumer: str, max_events: int = 10, block_seconds: float = 0.0) -> list[Delivery]:
        """Up to ``max_events`` due events for ``consumer`` (including ones abandoned by crashed consumers)."""

    def ack(self, delivery: Delivery) -> None:
        """The event was fully applied: forget it."""

    def retry(self, delivery: Delivery, error: str, delay: float) -> None:
        """Give the event back to be delivered again after ``delay`` seconds, with ``attempts + 1``."""

    def dead_letter(self, delivery: Delivery, error: str) -> None:
        """Park the event in the dead-letter queue with its error."""

    def dead_letters(self) -> list[IngestEvent]: ...

    def replay(self, event_ids: Sequence[str] | None = None) -> int:
        """Move dead-lettered events (all, or these) back into the queue with attempts reset; returns how many."""

    def pending(self) -> int:
        """Events waiting, in flight or delayed (not counting the dead-letter queue)."""

    def scan(self) -> Iterator[IngestEvent]:
        """Every event held anywhere (queued, delayed, in flight, dead-lettered): for audits and erasure."""

    def remove(self, event_ids: Sequence[str]) -> int:
        """Delete these events wherever they are held; returns how many were found."""

    def close(self) -> None: ...
