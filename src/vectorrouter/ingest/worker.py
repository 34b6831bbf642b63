"""The ingest worker: applies queued events through the router; retries store failures with backoff and
dead-letters what cannot succeed. Every event ends acknowledged or dead-lettered — none is dropped.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vectorrouter.errors import BackendError, RateLimited, is_caller_error
from vectorrouter.ingest.base import IngestQueue
from vectorrouter.ingest.events import Delivery
from vectorrouter.policies.retry import backoff_delay
from vectorrouter.types import Namespace

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["IngestWorker", "WorkerStats"]

log = logging.getLogger("vectorrouter.ingest")
Outcome = Literal["acked", "retried", "dead"]


@dataclass(slots=True)
class WorkerStats:
    acked: int = 0
    retried: int = 0
    dead: int = 0
    records: int = 0
    queue_errors: int = 0

    def add(self, outcome: Outcome, records: int) -> None:
        if outcome == "acked":
            self.acked += 1
            self.records += records
        elif outcome == "retried":
            self.retried += 1
        else:
            self.dead += 1


class IngestWorker:
    """Consume ``queue`` and write through ``router``.

    Store and provider failures (``BackendError``, including quota ``RateLimited``) are retried with jittered
    backoff (at least the server's Retry-After) up to ``max_attempts``; caller errors and anything unexpected go
    straight to the dead-letter queue with their message, since retrying cannot fix them.
    """

    def __init__(
        self,
        router: Router,
        queue: IngestQueue,
        *,
        consumer: str = "worker-1",
        max_attempts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.router = router
        self.queue = queue
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.rng = rng or random.Random()
        self.stats = WorkerStats()

    def process(self, delivery: Delivery) -> Outcome:
        event = delivery.event
        try:
            ns = Namespace.parse(event.namespace)
            if event.op == "upsert":
                self.router.write(ns, list(event.records), progress=False)
            else:
                self.router.delete(ns, list(event.ids))
        except BackendError as exc:
            attempt = event.attempts + 1
            if attempt >= self.max_attempts:
                log.error("event %s dead-lettered after %d attempts: %s", event.event_id, attempt, exc)
                self.queue.dead_letter(delivery, f"{type(exc).__name__}: {exc}")
                return "dead"
            delay = backoff_delay(
                attempt, initial=self.backoff_initial, maximum=self.backoff_max, rng=self.rng
            )
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            log.warning(
                "event %s attempt %d failed (%s); retry in %.2fs", event.event_id, attempt, exc, delay
            )
            self.queue.retry(delivery, f"{type(exc).__name__}: {exc}", delay)
            return "retried"
        except Exception as exc:  # caller errors and bugs: park the event with its reason, never drop it
            kind = "caller error" if is_caller_error(exc) else "unexpected error"
            log.error("event %s dead-lettered (%s): %s", event.event_id, kind, exc)
            self.queue.dead_letter(delivery, f"{type(exc).__name__}: {exc}")
            return "dead"
        self.queue.ack(delivery)
        return "acked"

    def run_once(self, max_events: int = 10, block_seconds: float = 0.0) -> int:
        """Claim and process one batch; returns how many events were handled (0 if the queue was unreachable)."""
        try:
            deliveries = self.queue.claim(self.consumer, max_events, block_seconds)
        except BackendError as exc:
            self.stats.queue_errors += 1
            log.warning("ingest queue unavailable: %s", exc)
            return 0
        for d in deliveries:
            outcome = self.process(d)
            self.stats.add(outcome, len(d.event.records) or len(d.event.ids))
        return len(deliveries)

    def drain(self, *, timeout: float | None = None, idle_sleep: float = 0.05) -> WorkerStats:
        """Process until nothing is pending (delayed retries included) or ``timeout`` seconds pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.run_once(block_seconds=0.0) == 0:
                try:
                    if self.queue.pending() == 0:
                        break
                except BackendError:
                    self.stats.queue_errors += 1
                time.sleep(idle_sleep)
        return self.stats

    def run_forever(self, stop: threading.Event, *, block_seconds: float = 1.0) -> WorkerStats:
        while not stop.is_set():
            if self.run_once(block_seconds=block_seconds) == 0 and self.stats.queue_errors:
                stop.wait(min(self.backoff_max, 1.0))
        return self.stats
