"""In-process queue: the embedded default. Survives nothing but a crash of a worker thread."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import replace

from vectorrouter.ingest.events import Delivery, IngestEvent

__all__ = ["MemoryQueue"]


class MemoryQueue:
    """A thread-safe queue with in-flight tracking, delayed retries and a dead-letter list.

    >>> q = MemoryQueue()
    >>> q.put(IngestEvent(namespace="t:f:v", op="delete", ids=("a",)))
    >>> [d.event.ids for d in q.claim("w1")]
    [('a',)]
    """

    name = "memory"

    def __init__(self, *, visibility_timeout: float = 60.0) -> None:
        self.visibility_timeout = visibility_timeout
        self._ready: OrderedDict[str, IngestEvent] = OrderedDict()
        self._inflight: dict[str, tuple[IngestEvent, float]] = {}
        self._dlq: OrderedDict[str, IngestEvent] = OrderedDict()
        self._cond = threading.Condition()

    def put(self, event: IngestEvent) -> None:
        with self._cond:
            self._ready[event.event_id] = event
            self._cond.notify_all()

    def _reclaim_abandoned(self, now: float) -> None:
        for eid, (event, since) in list(self._inflight.items()):
            if now - since >= self.visibility_timeout:
                del self._inflight[eid]
                self._ready[eid] = event

    def claim(self, consumer: str, max_events: int = 10, block_seconds: float = 0.0) -> list[Delivery]:
        deadline = time.monotonic() + block_seconds
        with self._cond:
            while True:
                now = time.monotonic()
                self._reclaim_abandoned(now)
                wall = time.time()
                due = [e for e in self._ready.values() if e.not_before <= wall][:max_events]
                if due or now >= deadline:
                    break
                self._cond.wait(timeout=min(0.05, deadline - now))
            out = []
            for event in due:
                del self._ready[event.event_id]
                self._inflight[event.event_id] = (event, time.monotonic())
                out.append(Delivery(event, event.event_id))
            return out

    def _take(self, delivery: Delivery) -> bool:
        return self._inflight.pop(delivery.receipt, None) is not None

    def ack(self, delivery: Delivery) -> None:
        with self._cond:
            self._take(delivery)

    def retry(self, delivery: Delivery, error: str, delay: float) -> None:
        with self._cond:
            if self._take(delivery):
                self._ready[delivery.event.event_id] = delivery.event.retried(error, delay)
                self._cond.notify_all()

    def dead_letter(self, delivery: Delivery, error: str) -> None:
        with self._cond:
            if self._take(delivery):
                self._dlq[delivery.event.event_id] = delivery.event.failed(error)

    def dead_letters(self) -> list[IngestEvent]:
        with self._cond:
            return list(self._dlq.values())

    def replay(self, event_ids: Sequence[str] | None = None) -> int:
        with self._cond:
            ids = list(self._dlq) if event_ids is None else [e for e in event_ids if e in self._dlq]
            for eid in ids:
                event = self._dlq.pop(eid)
                self._ready[eid] = replace(event, attempts=0, not_before=0.0)
            self._cond.notify_all()
            return len(ids)

    def pending(self) -> int:
        with self._cond:
            return len(self._ready) + len(self._inflight)

    def scan(self) -> Iterator[IngestEvent]:
        with self._cond:
            events = [*self._ready.values(), *(e for e, _ in self._inflight.values()), *self._dlq.values()]
        yield from events

    def remove(self, event_ids: Sequence[str]) -> int:
        found = 0
        with self._cond:
            for eid in event_ids:
                for store in (self._ready, self._inflight, self._dlq):
                    if store.pop(eid, None) is not None:
                        found += 1
        return found

    def close(self) -> None:
        return None
