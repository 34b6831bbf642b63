"""The ingest worker: applies queued events through the router; retries store failures with backoff and
dead-letters what cannot succeed. Every event ends acknowledged or dead-lettered — none is dropped.

An unreachable queue is retried with backoff (one warning when it goes away, one note when it is back);
``drain`` gives up with :class:`~vectorrouter.errors.BackendUnavailable` once it has been unreachable for
``queue_retry_for`` seconds, ``run_forever`` keeps trying.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vectorrouter.errors import BackendError, BackendUnavailable, RateLimited, is_caller_error
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

    When the queue itself cannot be reached, ``drain`` retries it with backoff (``queue_backoff_initial`` up to
    ``queue_backoff_max`` seconds) and raises ``BackendUnavailable`` after ``queue_retry_for`` seconds without
    reaching it; a queue that comes back sooner is simply used again.
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
        queue_retry_for: float = 60.0,
        queue_backoff_initial: float = 0.1,
        queue_backoff_max: float = 5.0,
    ) -> None:
        self.router = router
        self.queue = queue
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.rng = rng or random.Random()
        self.queue_retry_for = queue_retry_for
        self.queue_backoff_initial = queue_backoff_initial
        self.queue_backoff_max = queue_backoff_max
        self.stats = WorkerStats()
        self._outage_since: float | None = None  # monotonic time of the first failure of the current outage
        self._outage_failures = 0
        self._outage_error: BackendError | None = None

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

    # -- the queue's own availability ------------------------------------------------------------
    @property
    def queue_unreachable_for(self) -> float | None:
        """Seconds since the current outage of the queue began (``None`` while the queue answers)."""
        return None if self._outage_since is None else time.monotonic() - self._outage_since

    def _queue_failed(self, exc: BackendError) -> None:
        self.stats.queue_errors += 1
        self._outage_error = exc
        self._outage_failures += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("ingest queue %s unavailable, retrying with backoff: %s", self.queue.name, exc)
        else:
            log.debug("ingest queue %s still unavailable: %s", self.queue.name, exc)

    def _queue_answered(self) -> None:
        if self._outage_since is not None:
            log.warning(
                "ingest queue %s reachable again after %.1fs",
                self.queue.name,
                time.monotonic() - self._outage_since,
            )
            self._outage_since = None
            self._outage_failures = 0
            self._outage_error = None

    def _outage_wait(self) -> float:
        return backoff_delay(
            self._outage_failures,
            initial=self.queue_backoff_initial,
            maximum=self.queue_backoff_max,
            rng=self.rng,
        )

    def _give_up(self) -> BackendUnavailable:
        last = str(self._outage_error)
        where = getattr(self.queue, "url", "")
        at = f" at {where}" if where and where not in last else ""
        return BackendUnavailable(
            f"the ingest queue{at} could not be reached for {self.queue_unreachable_for or 0.0:.1f}s "
            f"({self._outage_failures} attempts), giving up: {last}"
        )

    def run_once(self, max_events: int = 10, block_seconds: float = 0.0) -> int:
        """Claim and process one batch; returns how many events were handled (0 if the queue was unreachable,
        which is counted in ``stats.queue_errors`` and logged once per outage, not raised)."""
        try:
            deliveries = self.queue.claim(self.consumer, max_events, block_seconds)
        except BackendError as exc:
            self._queue_failed(exc)
            return 0
        self._queue_answered()
        for d in deliveries:
            outcome = self.process(d)
            self.stats.add(outcome, len(d.event.records) or len(d.event.ids))
        return len(deliveries)

    def drain(self, *, timeout: float | None = None, idle_sleep: float = 0.05) -> WorkerStats:
        """Process until nothing is pending (delayed retries included) or ``timeout`` seconds pass.

        Raises ``BackendUnavailable`` (naming the queue) when the queue stays unreachable for
        ``queue_retry_for`` seconds, or is still unreachable when ``timeout`` runs out: "nothing applied"
        must not look like "nothing to do".
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            if self.run_once(block_seconds=0.0) > 0:
                continue
            if self._outage_since is None:
                try:
                    if self.queue.pending() == 0:
                        return self.stats
                except BackendError as exc:
                    self._queue_failed(exc)
            wait = idle_sleep
            if self._outage_since is not None:
                left = self.queue_retry_for - (self.queue_unreachable_for or 0.0)
                if left <= 0:
                    raise self._give_up() from self._outage_error
                wait = min(max(self._outage_wait(), idle_sleep), left)
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            time.sleep(wait)
        if self._outage_since is not None:
            raise self._give_up() from self._outage_error
        return self.stats

    def run_forever(self, stop: threading.Event, *, block_seconds: float = 1.0) -> WorkerStats:
        """Work until ``stop`` is set; an unreachable queue is retried with backoff for as long as it takes."""
        while not stop.is_set():
            if self.run_once(block_seconds=block_seconds) == 0 and self._outage_since is not None:
                stop.wait(max(self._outage_wait(), 0.05))
        return self.stats
