"""Redis Streams queue: consumer groups for at-least-once delivery, a sorted set for delayed retries, a hash
for the dead-letter queue. Abandoned deliveries (a crashed worker) are reclaimed with XAUTOCLAIM.

Keys (``prefix`` defaults to ``vr:ingest``): ``{prefix}:stream``, ``{prefix}:delayed``, ``{prefix}:dlq``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from vectorrouter.errors import BackendUnavailable
from vectorrouter.errors import Timeout as TimeoutError_
from vectorrouter.ingest.events import Delivery, IngestEvent

__all__ = ["RedisStreamQueue", "map_redis_error"]

T = TypeVar("T")

# Move due retries from the delayed set into the stream atomically, so two consumers never promote one twice.
_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  if redis.call('ZREM', KEYS[1], member) == 1 then
    redis.call('XADD', KEYS[2], '*', 'event', member)
  end
end
return #due
"""


def map_redis_error(exc: BaseException) -> BaseException:
    """The one place redis-py's exceptions become ours."""
    import redis

    if isinstance(exc, redis.exceptions.TimeoutError):
        return TimeoutError_(str(exc), backend="redis")
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.BusyLoadingError):
        return BackendUnavailable(str(exc) or type(exc).__name__, backend="redis")
    if isinstance(exc, redis.exceptions.RedisError):
        return BackendUnavailable(f"{type(exc).__name__}: {exc}", backend="redis")
    return exc


class RedisStreamQueue:
    """Durable ingest queue on Redis Streams.

    >>> q = RedisStreamQueue("redis://127.0.0.1:6379/0", prefix="vr:doc")   # doctest: +SKIP
    """

    name = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "vr:ingest",
        group: str = "workers",
        visibility_timeout: float = 60.0,
        socket_timeout: float = 2.0,
        client: Any = None,
    ) -> None:
        import redis

        self._redis: Any = client or redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self.stream = f"{prefix}:stream"
        self.delayed = f"{prefix}:delayed"
        self.dlq = f"{prefix}:dlq"
        self.group = group
        self.visibility_ms = int(visibility_timeout * 1000)
        self._group_ready = False

    def _do(self, fn: Callable[[], T]) -> T:
        import redis

        try:
            if not self._group_ready:
                self._ensure_group()
            try:
                return fn()
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # the server restarted without persistence (or someone deleted the key): recreate and go on
                self._group_ready = False
                self._ensure_group()
                return fn()
        except Exception as exc:
            mapped = map_redis_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def _ensure_group(self) -> None:
        import redis

        try:
            self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def put(self, event: IngestEvent) -> None:
        self._do(lambda: self._redis.xadd(self.stream, {"event": event.to_json()}))

    def claim(self, consumer: str, max_events: int = 10, block_seconds: float = 0.0) -> list[Delivery]:
        def go() -> list[Delivery]:
            self._redis.eval(_PROMOTE, 2, self.delayed, self.stream, time.time(), 100)
            out: list[Delivery] = []
            _next, abandoned, *_ = self._redis.xautoclaim(
                self.stream, self.group, consumer, self.visibility_ms, start_id="0-0", count=max_events
            )
            out.extend(self._deliveries(abandoned))
            if len(out) < max_events:
                block = int(block_seconds * 1000) if block_seconds > 0 else None
                resp = self._redis.xreadgroup(
                    self.group, consumer, {self.stream: ">"}, count=max_events - len(out), block=block
                )
                for _stream, entries in resp or []:
                    out.extend(self._deliveries(entries))
            return out

        return self._do(go)

    @staticmethod
    def _deliveries(entries: list[Any]) -> list[Delivery]:
        out = []
        for entry_id, fields in entries:
            if not fields:  # deleted while pending
                continue
            rid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            out.append(Delivery(IngestEvent.from_json(fields[b"event"]), rid))
        return out

    def _finish(self, delivery: Delivery, then: Callable[[Any], None] | None = None) -> None:
        def go() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.xack(self.stream, self.group, delivery.receipt)
            pipe.xdel(self.stream, delivery.receipt)
            if then is not None:
                then(pipe)
            pipe.execute()

        self._do(go)

    def ack(self, delivery: Delivery) -> None:
        self._finish(delivery)

    def retry(self, delivery: Delivery, error: str, delay: float) -> None:
        again = delivery.event.retried(error, delay)
        self._finish(delivery, lambda pipe: pipe.zadd(self.delayed, {again.to_json(): again.not_before}))

    def dead_letter(self, delivery: Delivery, error: str) -> None:
        dead = delivery.event.failed(error)
        self._finish(delivery, lambda pipe: pipe.hset(self.dlq, dead.event_id, dead.to_json()))

    def dead_letters(self) -> list[IngestEvent]:
        raw = self._do(lambda: self._redis.hvals(self.dlq))
        return sorted((IngestEvent.from_json(v) for v in raw), key=lambda e: e.enqueued_at)

    def replay(self, event_ids: Sequence[str] | None = None) -> int:
        def go() -> int:
            ids = [k.decode() for k in self._redis.hkeys(self.dlq)] if event_ids is None else list(event_ids)
            moved = 0
            for eid in ids:
                raw = self._redis.hget(self.dlq, eid)
                if raw is None:
                    continue
                event = replace(IngestEvent.from_json(raw), attempts=0, not_before=0.0)
                pipe = self._redis.pipeline(transaction=True)
                pipe.xadd(self.stream, {"event": event.to_json()})
                pipe.hdel(self.dlq, eid)
                pipe.execute()
                moved += 1
            return moved

        return self._do(go)

    def pending(self) -> int:
        return int(self._do(lambda: self._redis.xlen(self.stream) + self._redis.zcard(self.delayed)))

    def _stream_entries(self) -> list[tuple[str, IngestEvent]]:
        entries = self._redis.xrange(self.stream, "-", "+")
        return [(d.receipt, d.event) for d in self._deliveries(entries)]

    def scan(self) -> Iterator[IngestEvent]:
        def go() -> list[IngestEvent]:
            events = [e for _, e in self._stream_entries()]
            events.extend(IngestEvent.from_json(m) for m in self._redis.zrange(self.delayed, 0, -1))
            events.extend(IngestEvent.from_json(v) for v in self._redis.hvals(self.dlq))
            return events

        yield from self._do(go)

    def remove(self, event_ids: Sequence[str]) -> int:
        wanted = set(event_ids)

        def go() -> int:
            found = 0
            pipe = self._redis.pipeline(transaction=True)
            for entry_id, event in self._stream_entries():
                if event.event_id in wanted:
                    pipe.xack(self.stream, self.group, entry_id)
                    pipe.xdel(self.stream, entry_id)
                    found += 1
            for member in self._redis.zrange(self.delayed, 0, -1):
                if IngestEvent.from_json(member).event_id in wanted:
                    pipe.zrem(self.delayed, member)
                    found += 1
            for eid in wanted:
                pipe.hdel(self.dlq, eid)
            results = pipe.execute()
            found += sum(int(r) for r in results[len(results) - len(wanted) :])
            return found

        return self._do(go)

    def clear(self) -> None:
        """Delete every key of this queue (tests and teardown)."""
        self._do(lambda: self._redis.delete(self.stream, self.delayed, self.dlq))
        self._group_ready = False

    def close(self) -> None:
        self._redis.close()
