"""The ingest queue and its dead-letter queue as erasure places.

Queued events hold records that already passed the compliance hooks, so a user's records are found by the
same user-reference digests as in the stores. An event holding only the user's records is removed; an event
that also holds other users' records is replaced by a copy without the user's (same event id), so nobody
else's data is lost. Only the queue protocol is used (``scan``, ``dead_letters``, ``remove``, ``put``), and it
has no way to put an event straight into the dead-letter queue: a *trimmed* dead letter goes back into the
queue, where it is retried and, if it fails again, dead-lettered again. ``delete`` events carry record
digests, not data, and are left to run.

An event a worker holds at the moment of the erasure may still reach a store after the store was erased;
the verification that follows every erasure searches the stores again and reports it as residue, and a
second ``forget`` removes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from vectorrouter.compliance.erasure import ErasureTarget
from vectorrouter.ingest import IngestEvent, IngestQueue

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["QueuePlace", "QueuePlaces"]


class QueuePlace:
    """The events of one queue: ``dead=False`` the queued, delayed and in-flight ones, ``dead=True`` the DLQ."""

    def __init__(self, queue: IngestQueue, *, dead: bool) -> None:
        self.queue = queue
        self.dead = dead
        self.name = f"{'dead-letter' if dead else 'ingest-queue'}:{queue.name}"

    def _events(self) -> list[IngestEvent]:
        dead = {e.event_id: e for e in self.queue.dead_letters()}
        if self.dead:
            return list(dead.values())
        return [e for e in self.queue.scan() if e.event_id not in dead]

    @staticmethod
    def _split(event: IngestEvent, target: ErasureTarget) -> tuple[int, tuple[IngestEvent, ...]]:
        if event.op != "upsert":
            return 0, ()
        kept = tuple(r for r in event.records if not target.owns(r.metadata))
        gone = len(event.records) - len(kept)
        if not gone:
            return 0, ()
        return gone, ((dataclasses.replace(event, records=kept),) if kept else ())

    def erase(self, target: ErasureTarget) -> int:
        deleted = 0
        for event in self._events():
            gone, rest = self._split(event, target)
            if not gone:
                continue
            self.queue.remove([event.event_id])
            for trimmed in rest:  # the other users' records of the event stay queued
                self.queue.put(trimmed)
            deleted += gone
        return deleted

    def residue(self, target: ErasureTarget) -> int:
        return sum(self._split(e, target)[0] for e in self._events())


class QueuePlaces:
    """Place provider for the router's ingest queue (read at erasure time: the queue may be swapped)."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def places(self, target: ErasureTarget) -> Iterator[QueuePlace]:
        yield QueuePlace(self.router.queue, dead=False)
        yield QueuePlace(self.router.queue, dead=True)
