"""The ingest queue contract, run against the in-process queue and Redis Streams (real server)."""

import json
import time
from collections.abc import Iterator

import pytest
import redis
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


# -- malformed stream entries: written by something else (or a bug); they must not stop the queue --------------

MALFORMED = {
    "no event field": {"payload": "hello"},
    "event is not JSON": {"event": "{not json"},
    "event is not an object": {"event": "[1, 2]"},
    "event lacks keys": {"event": json.dumps({"namespace": "acme:docs:v1", "op": "upsert"})},
    "unknown op": {"event": event(9).to_json().replace('"op":"upsert"', '"op":"insert"')},
    "invalid record": {"event": event(9).to_json().replace('"id":"r9"', '"id":""')},
}


@pytest.fixture
def rq() -> Iterator[RedisStreamQueue]:
    q = RedisStreamQueue(require_redis(), prefix=unique_prefix("malformed"), visibility_timeout=0.2)
    yield q
    q.clear()
    q.close()


def raw_client(q: RedisStreamQueue) -> redis.Redis:
    return q._redis  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_malformed_entry_is_dead_lettered_with_its_reason_and_raw_fields_and_the_batch_goes_on(
    rq: RedisStreamQueue, kind: str
) -> None:
    rq.put(event(1))
    raw_client(rq).xadd(rq.stream, MALFORMED[kind])
    rq.put(event(2))
    got = rq.claim("w1", 10)
    assert [d.event.records[0].id for d in got] == ["r1", "r2"], (
        "the valid entries of the batch are delivered"
    )
    for d in got:
        rq.ack(d)
    assert rq.pending() == 0, "nothing stays behind in the stream"
    assert raw_client(rq).xpending(rq.stream, rq.group)["pending"] == 0, "nothing stuck in the pending list"
    (dead,) = rq.dead_letters()
    assert dead.is_malformed
    assert dead.event_id.startswith("malformed-")
    assert dead.last_error.startswith("MalformedEvent: stream entry ")
    assert (dead.records, dead.attempts) == ((), 1)
    assert json.loads(dead.raw) == MALFORMED[kind], "the raw fields are kept verbatim"


def test_a_malformed_entry_abandoned_by_a_crashed_consumer_is_dead_lettered_on_reclaim(
    rq: RedisStreamQueue,
) -> None:
    rq.put(event(1))  # creates the group
    (d,) = rq.claim("w1", 1)
    rq.ack(d)
    raw_client(rq).xadd(rq.stream, {"event": "garbage"})
    rq.put(event(2))
    # a consumer that read both entries and died (e.g. an older worker that crashed on the garbage)
    raw_client(rq).xreadgroup(rq.group, "crashed", {rq.stream: ">"}, count=10)
    time.sleep(0.3)  # past the visibility timeout
    (again,) = rq.claim("w2", 10)
    assert again.event.records[0].id == "r2"
    rq.ack(again)
    assert rq.pending() == 0
    assert [e.is_malformed for e in rq.dead_letters()] == [True]


def test_scan_and_remove_see_malformed_entries_instead_of_crashing(rq: RedisStreamQueue) -> None:
    rq.put(event(1))
    raw_client(rq).xadd(rq.stream, {"payload": "hello"})
    raw_client(rq).zadd(rq.delayed, {"not an event": time.time() + 3600})
    raw_client(rq).hset(rq.dlq, "odd", "not an event either")
    held = list(rq.scan())
    assert [e.records[0].id for e in held if not e.is_malformed] == ["r1"]
    bad = [e for e in held if e.is_malformed]
    assert len(bad) == 3
    assert {e.event_id for e in rq.dead_letters()} == {"odd"}
    assert rq.remove([e.event_id for e in bad]) == 3
    assert [e.records[0].id for e in rq.scan()] == ["r1"]
    assert rq.pending() == 1


def test_replay_leaves_malformed_dead_letters_where_they_are(rq: RedisStreamQueue) -> None:
    raw_client(rq).xadd(rq.stream, {"payload": "hello"})
    rq.put(event(1))
    (d,) = rq.claim("w1", 10)
    rq.dead_letter(d, "InvalidRecord: bad")
    assert len(rq.dead_letters()) == 2
    assert rq.replay() == 1, "only the real event goes back: the malformed one cannot be applied"
    assert [e.is_malformed for e in rq.dead_letters()] == [True]
    (again,) = rq.claim("w1", 10)
    assert again.event.records[0].id == "r1"


def test_malformed_events_are_refused_by_from_json_with_the_reason() -> None:
    with pytest.raises(ValueError, match="op must be"):
        IngestEvent.from_json(MALFORMED["unknown op"]["event"])
    with pytest.raises(ValueError, match="missing"):
        IngestEvent.from_json(MALFORMED["event lacks keys"]["event"])
    e = event(1)
    assert IngestEvent.from_json(e.to_json()) == e
    assert '"raw"' not in e.to_json(), "the wire format of a valid event is unchanged"
