"""The ingest queue contract, run against the in-process queue and Redis Streams (real server)."""

from collections.abc import Iterator

import pytest
from tests.support.services import require_redis, throwaway_redis, unique_prefix

from vectorrouter.errors import BackendUnavailable
from vectorrouter.ingest import IngestEvent, MemoryQueue
from vectorrouter.ingest.redis_queue import RedisStreamQueue
from vectorrouter.types import Record


def event(i: int, ns: str = "acme:docs:v1") -> IngestEvent:
    return IngestEvent(namespace=ns, records=(Record(id=f"r{i}", text=f"text {i}", metadata={"i": i}),))


class QueueContract:
    @pytest.fixture
    def queue(self) -> Iterator[object]:  # pragma: no cover - subclasses override
        raise NotImplementedError

    def test_events_round_trip_with_their_records(self, queue) -> None:  # type: ignore[no-untyped-def]
        e = event(1)
        queue.put(e)
        (d,) = queue.claim("w1", 10)
        assert d.event == e
        queue.ack(d)
        assert queue.pending() == 0

    def test_claimed_events_are_not_delivered_twice_while_in_flight(self, queue) -> None:  # type: ignore[no-untyped-def]
        for i in range(3):
            queue.put(event(i))
        first = queue.claim("w1", 2)
        second = queue.claim("w2", 10)
        assert len(first) == 2
        assert [d.event.records[0].id for d in second] == ["r2"]
        assert queue.pending() == 3, "in-flight events still count as pending until acked"

    def test_abandoned_deliveries_go_to_another_consumer(self, queue) -> None:  # type: ignore[no-untyped-def]
        queue.put(event(7))
        (lost,) = queue.claim("crashed-worker", 1)
        import time

        time.sleep(0.25)  # longer than the fixture's visibility timeout
        (again,) = queue.claim("w2", 1)
        assert again.event.event_id == lost.event.event_id
        queue.ack(again)
        assert queue.pending() == 0

    def test_retry_redelivers_after_the_delay_with_the_attempt_counted(self, queue) -> None:  # type: ignore[no-untyped-def]
        queue.put(event(1))
        (d,) = queue.claim("w1", 1)
        queue.retry(d, "BackendUnavailable: down", delay=0.0)
        (again,) = queue.claim("w1", 1)
        assert again.event.attempts == 1
        assert again.event.last_error == "BackendUnavailable: down"

    def test_delayed_retry_is_not_delivered_early(self, queue) -> None:  # type: ignore[no-untyped-def]
        queue.put(event(1))
        (d,) = queue.claim("w1", 1)
        queue.retry(d, "429", delay=60.0)
        assert queue.claim("w1", 1) == []
        assert queue.pending() == 1

    def test_dead_letters_keep_the_error_and_can_be_replayed(self, queue) -> None:  # type: ignore[no-untyped-def]
        queue.put(event(1))
        (d,) = queue.claim("w1", 1)
        queue.dead_letter(d, "InvalidRecord: bad")
        (dead,) = queue.dead_letters()
        assert (dead.last_error, dead.attempts) == ("InvalidRecord: bad", 1)
        assert queue.pending() == 0
        assert queue.replay() == 1
        assert queue.dead_letters() == []
        (again,) = queue.claim("w1", 1)
        assert again.event.attempts == 0

    def test_scan_sees_every_held_event_and_remove_erases_them(self, queue) -> None:  # type: ignore[no-untyped-def]
        for i in range(4):
            queue.put(event(i))
        d0, d1, _ = queue.claim("w1", 3)
        queue.dead_letter(d0, "x")
        queue.retry(d1, "y", delay=60)
        held = {e.event_id for e in queue.scan()}
        assert len(held) == 4
        victims = [d0.event.event_id, d1.event.event_id]
        assert queue.remove(victims) == 2
        assert {e.event_id for e in queue.scan()} == held - set(victims)
        assert queue.dead_letters() == []


class TestMemoryQueue(QueueContract):
    @pytest.fixture
    def queue(self) -> MemoryQueue:
        return MemoryQueue(visibility_timeout=0.2)


class TestRedisStreamQueue(QueueContract):
    @pytest.fixture
    def queue(self) -> Iterator[RedisStreamQueue]:
        q = RedisStreamQueue(require_redis(), prefix=unique_prefix("queue"), visibility_timeout=0.2)
        yield q
        q.clear()
        q.close()


def test_redis_queue_put_raises_when_the_server_is_gone_so_nothing_is_silently_lost() -> None:
    with throwaway_redis() as server:
        q = RedisStreamQueue(server.url, prefix="t", socket_timeout=0.5)
        q.put(event(1))
        server.kill()
        with pytest.raises(BackendUnavailable):
            q.put(event(2))
        server.start()  # a fresh server: the unacknowledged event is gone with the old process's memory
        q.put(event(3))
        assert [d.event.records[0].id for d in q.claim("w", 10)] == ["r3"]
