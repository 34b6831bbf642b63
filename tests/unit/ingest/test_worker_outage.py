"""An unreachable ingest queue: the worker retries it with backoff, picks it up again when it comes back, and
gives up with an error naming it after ``queue_retry_for`` seconds; it neither hangs nor logs every poll."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.errors import BackendUnavailable
from vectorrouter.ingest import Delivery, IngestEvent, IngestWorker, MemoryQueue

MODEL = ModelSpec(version="hash-32", provider="hash", dimensions=32)


class OutageQueue(MemoryQueue):
    """A memory queue whose every call fails while ``down`` is set, as a Redis that went away does."""

    url = "redis://queue.example:6379/0"

    def __init__(self) -> None:
        super().__init__()
        self.down = threading.Event()
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down.is_set():
            raise BackendUnavailable(f"ingest queue at {self.url}: Connection refused", backend="redis")

    def claim(self, consumer: str, max_events: int = 10, block_seconds: float = 0.0) -> list[Delivery]:
        self._check()
        return super().claim(consumer, max_events, block_seconds)

    def pending(self) -> int:
        self._check()
        return super().pending()

    def put(self, event: IngestEvent) -> None:
        self._check()
        super().put(event)

    def replay(self, event_ids: Sequence[str] | None = None) -> int:
        self._check()
        return super().replay(event_ids)


@pytest.fixture
def router() -> Iterator[Router]:
    r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend)
    yield r
    r.close()


def worker(router: Router, queue: OutageQueue, retry_for: float) -> IngestWorker:
    return IngestWorker(
        router,
        queue,
        queue_retry_for=retry_for,
        queue_backoff_initial=0.05,
        queue_backoff_max=0.2,
        rng=random.Random(7),
    )


def test_drain_gives_up_on_a_queue_that_stays_unreachable_with_an_error_naming_it(router: Router) -> None:
    queue = OutageQueue()
    queue.down.set()
    w = worker(router, queue, retry_for=0.5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as err:
        w.drain(timeout=5)  # the old worker swallowed every error and returned "nothing to do" at the timeout
    assert time.monotonic() - started < 2.0, "gave up after queue_retry_for, not at the timeout"
    assert "redis://queue.example:6379/0" in str(err.value)
    assert "could not be reached for" in str(err.value)
    assert queue.calls <= 20, f"backoff, not a poll every 50 ms: {queue.calls} calls in 0.5 s"


def test_an_outage_is_logged_once_and_its_end_once(router: Router, caplog: pytest.LogCaptureFixture) -> None:
    queue = OutageQueue()
    queue.put(IngestEvent(namespace="acme:docs:hash-32", records=(Record(id="a", text="x"),)))
    queue.down.set()
    threading.Timer(0.6, queue.down.clear).start()
    with caplog.at_level(logging.DEBUG, logger="vectorrouter.ingest"):
        stats = worker(router, queue, retry_for=10).drain(timeout=10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "unavailable" in warnings[0]
    assert "reachable again" in warnings[1]
    assert stats.queue_errors >= 2
    assert stats.acked == 1


def test_a_queue_that_comes_back_within_the_window_is_worked_to_the_end(router: Router) -> None:
    queue = OutageQueue()
    for i in range(3):
        queue.put(IngestEvent(namespace="acme:docs:hash-32", records=(Record(id=f"d{i}", text=f"doc {i}"),)))
    queue.down.set()
    threading.Timer(0.5, queue.down.clear).start()
    stats = worker(router, queue, retry_for=10).drain(timeout=10)
    assert (stats.acked, stats.records, stats.dead) == (3, 3, 0)
    assert router.count("acme:docs") == 3
    assert queue.pending() == 0


def test_a_queue_still_unreachable_when_the_timeout_ends_is_an_error_not_an_empty_queue(
    router: Router,
) -> None:
    queue = OutageQueue()
    queue.down.set()
    with pytest.raises(BackendUnavailable, match="could not be reached"):
        worker(router, queue, retry_for=60).drain(timeout=0.3)


def test_run_forever_keeps_retrying_and_resumes(router: Router) -> None:
    queue = OutageQueue()
    queue.put(IngestEvent(namespace="acme:docs:hash-32", records=(Record(id="a", text="x"),)))
    queue.down.set()
    w = worker(router, queue, retry_for=0.1)  # run_forever is a daemon loop: it never gives up
    stop = threading.Event()
    t = threading.Thread(target=w.run_forever, args=(stop,), kwargs={"block_seconds": 0.05})
    t.start()
    time.sleep(0.4)
    queue.down.clear()
    deadline = time.monotonic() + 5
    while w.stats.acked == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    t.join(5)
    assert w.stats.acked == 1
    assert w.queue_unreachable_for is None
