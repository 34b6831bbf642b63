"""The worker applies queued events through the router; failures are retried or dead-lettered, never lost."""

import threading
import time
from collections.abc import Iterator, Sequence

import pytest
from tests.support.services import require_redis, throwaway_redis, unique_prefix

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import IndexSpec, NumpyBackend
from vectorrouter.errors import BackendUnavailable, InvalidRecord, RateLimited
from vectorrouter.hooks import IngestContext
from vectorrouter.ingest import IngestEvent, IngestWorker, MemoryQueue
from vectorrouter.ingest.redis_queue import RedisStreamQueue

MODEL = ModelSpec(version="hash-128", provider="hash", dimensions=128)


class FlakyBackend(NumpyBackend):
    """Fails the next ``failures`` upserts with the given error, then works."""

    def __init__(self, spec: IndexSpec) -> None:
        super().__init__(spec)
        self.failures: list[Exception] = []

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        super().upsert(namespace, records)


@pytest.fixture
def router() -> Iterator[Router]:
    r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=FlakyBackend)
    yield r
    r.close()


def backend(router: Router) -> FlakyBackend:
    b = router.indexes.for_model(MODEL)
    assert isinstance(b, FlakyBackend)
    return b


def docs(n: int, start: int = 0) -> list[Record]:
    return [Record(id=f"d{i}", text=f"document {i}") for i in range(start, start + n)]


def test_enqueued_records_reach_the_stores_only_when_a_worker_runs(router: Router) -> None:
    ids = router.enqueue("acme:docs", docs(10), batch_size=4)
    assert len(ids) == 3
    assert not router.catalog.exists("acme:docs:hash-128"), "enqueue writes nothing"
    stats = IngestWorker(router, router.queue).drain(timeout=10)
    assert (stats.acked, stats.records, stats.dead) == (3, 10, 0)
    assert router.count("acme:docs") == 10


def test_hooks_run_once_at_enqueue_not_again_in_the_worker(router: Router) -> None:
    calls: list[int] = []

    def count(records: list[Record], ctx: IngestContext) -> list[Record]:
        calls.append(len(records))
        return records

    router.hooks.append(count)
    router.enqueue("acme:docs", docs(5))
    IngestWorker(router, router.queue).drain(timeout=10)
    assert calls == [5]


def test_store_failures_are_retried_until_they_succeed(router: Router) -> None:
    router.enqueue("acme:docs", docs(3))
    router.catalog  # noqa: B018 - the backend is created on first use below
    backend(router).failures = [BackendUnavailable("primary down"), RateLimited("429", retry_after=0.01)]
    worker = IngestWorker(router, router.queue, backoff_initial=0.001, backoff_max=0.01)
    stats = worker.drain(timeout=10)
    assert (stats.retried, stats.acked, stats.dead) == (2, 1, 0)
    assert router.count("acme:docs") == 3


def test_persistent_store_failure_ends_in_the_dead_letter_queue_with_its_error(router: Router) -> None:
    router.enqueue("acme:docs", docs(2))
    backend(router).failures = [BackendUnavailable("down")] * 10
    worker = IngestWorker(router, router.queue, max_attempts=3, backoff_initial=0.001, backoff_max=0.005)
    stats = worker.drain(timeout=10)
    assert (stats.retried, stats.dead, stats.acked) == (2, 1, 0)
    (dead,) = router.queue.dead_letters()
    assert dead.attempts == 3
    assert "BackendUnavailable" in dead.last_error
    assert [r.id for r in dead.records] == ["d0", "d1"], "the dead letter keeps the records, nothing is lost"
    backend(router).failures = []
    assert router.queue.replay() == 1
    IngestWorker(router, router.queue).drain(timeout=10)
    assert router.count("acme:docs") == 2


def test_caller_errors_are_dead_lettered_at_once_without_retries(router: Router) -> None:
    router.queue.put(
        IngestEvent(namespace="acme:docs:hash-128", records=(Record(id="w", text="x", vector=[0.1] * 7),))
    )
    stats = IngestWorker(router, router.queue).drain(timeout=10)
    assert (stats.retried, stats.dead) == (0, 1)
    assert "DimensionMismatch" in router.queue.dead_letters()[0].last_error


def test_a_bad_event_does_not_block_good_ones(router: Router) -> None:
    router.queue.put(IngestEvent(namespace="not a namespace", records=(Record(id="a", text="x"),)))
    router.enqueue("acme:docs", docs(3))
    stats = IngestWorker(router, router.queue).drain(timeout=10)
    assert (stats.acked, stats.dead) == (1, 1)
    assert router.count("acme:docs") == 3


def test_invalid_input_is_rejected_at_enqueue_before_anything_is_queued(router: Router) -> None:
    with pytest.raises(InvalidRecord):
        router.enqueue("acme:docs", [*docs(2), {"id": "bad", "metadata": {"x": {"y": 1}}}])
    assert router.queue.pending() == 0


def test_redis_queue_survives_a_redis_restart_without_losing_accepted_events() -> None:
    """Events acknowledged by the queue before Redis dies were applied; puts during the outage raise."""
    with throwaway_redis() as server:
        queue = RedisStreamQueue(server.url, prefix="w", socket_timeout=0.3, visibility_timeout=1)
        r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, queue=queue)
        worker = IngestWorker(r, queue)
        r.enqueue("acme:docs", docs(5))
        worker.drain(timeout=10)
        server.kill()
        with pytest.raises(BackendUnavailable):
            r.enqueue("acme:docs", docs(5, start=5))
        assert worker.run_once() == 0, "an unreachable queue is reported, not raised, by the worker loop"
        assert worker.stats.queue_errors == 1
        server.start()
        r.enqueue("acme:docs", docs(5, start=5))
        worker.drain(timeout=10)
        assert r.count("acme:docs") == 10
        r.close()


def test_two_workers_on_one_redis_stream_share_the_work_exactly_once() -> None:
    url = require_redis()
    prefix = unique_prefix("workers")
    r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend)
    queues = [RedisStreamQueue(url, prefix=prefix) for _ in range(2)]
    ids = set()
    for i in range(20):
        e = IngestEvent(namespace="acme:docs:hash-128", records=tuple(docs(1, start=i)))
        queues[0].put(e)
        ids.add(e.event_id)
    seen: list[str] = []
    lock = threading.Lock()

    class Recording(IngestWorker):
        def process(self, delivery):  # type: ignore[no-untyped-def]
            with lock:
                seen.append(delivery.event.event_id)
            return super().process(delivery)

    workers = [Recording(r, q, consumer=f"w{i}") for i, q in enumerate(queues)]
    threads = [threading.Thread(target=w.drain, kwargs={"timeout": 20}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(ids), "every event processed once"
    assert r.count("acme:docs") == 20
    queues[0].clear()
    for q in queues:
        q.close()
    r.close()


def test_memory_queue_is_the_default() -> None:
    r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend)
    assert isinstance(r.queue, MemoryQueue)
    r.close()


@pytest.fixture
def poisoned() -> Iterator[RedisStreamQueue]:
    queue = RedisStreamQueue(require_redis(), prefix=unique_prefix("poison"), visibility_timeout=1)
    yield queue
    queue.clear()
    queue.close()


def test_a_malformed_stream_entry_is_dead_lettered_and_the_good_events_around_it_are_applied(
    poisoned: RedisStreamQueue,
) -> None:
    queue = poisoned
    r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, queue=queue)
    r.enqueue("acme:docs", docs(2))
    queue._redis.xadd(queue.stream, {"payload": "hello"})
    queue._redis.xadd(queue.stream, {"event": "{not json"})
    r.enqueue("acme:docs", docs(2, start=2))
    stats = IngestWorker(r, queue).drain(timeout=10)
    assert (stats.acked, stats.records) == (2, 4)
    assert r.count("acme:docs") == 4
    assert queue.pending() == 0
    dead = queue.dead_letters()
    assert [e.is_malformed for e in dead] == [True, True]
    assert {e.raw for e in dead} == {'{"payload": "hello"}', '{"event": "{not json"}'}
    r.close()


def test_drain_gives_up_on_a_dead_redis_naming_its_url_instead_of_hanging() -> None:
    with throwaway_redis() as server:
        queue = RedisStreamQueue(server.url, prefix="w", socket_timeout=0.3)
        r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, queue=queue)
        server.kill()
        worker = IngestWorker(r, queue, queue_retry_for=0.5)
        with pytest.raises(BackendUnavailable, match=server.url):
            worker.drain()  # no timeout: the old worker looped forever here
        r.close()


def test_drain_picks_up_a_redis_that_comes_back_within_the_retry_window() -> None:
    with throwaway_redis() as server:
        queue = RedisStreamQueue(server.url, prefix="w", socket_timeout=0.3)
        r = Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, queue=queue)
        server.kill()
        worker = IngestWorker(r, queue, queue_retry_for=20, queue_backoff_max=0.2)
        outcome: list[object] = []
        t = threading.Thread(target=lambda: outcome.append(worker.drain(timeout=30)))
        t.start()
        time.sleep(0.5)
        assert worker.queue_unreachable_for is not None, "the worker noticed the outage"
        server.start()
        t.join(15)
        assert not t.is_alive()
        assert outcome == [worker.stats], "drain returned normally once Redis answered again"
        assert worker.stats.queue_errors >= 1
        assert worker.queue_unreachable_for is None
        r.enqueue("acme:docs", docs(3))
        assert worker.drain(timeout=10).acked == 1
        r.close()
