"""Redis Streams queue: consumer groups for at-least-once delivery, a sorted set for delayed retries, a hash
for the dead-letter queue. Abandoned deliveries (a crashed worker) are reclaimed with XAUTOCLAIM.

Keys (``prefix`` defaults to ``vr:ingest``): ``{prefix}:stream``, ``{prefix}:delayed``, ``{prefix}:dlq``.

An entry that is not a valid event (no ``event`` field, not JSON, not an event's shape: written by something
else, or by a bug) must not stop the queue: a claim dead-letters it with the reason and its raw fields (see
:meth:`IngestEvent.malformed`) and hands out the valid entries of the batch; ``scan``, ``remove`` and
``dead_letters`` show it as such a placeholder, so it can be listed and erased like any event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from vectorrouter.errors import BackendUnavailable
from vectorrouter.errors import Timeout as TimeoutError_
from vectorrouter.ingest.events import Delivery, IngestEvent

__all__ = ["RedisStreamQueue", "map_redis_error"]

T = TypeVar("T")
log = logging.getLogger("vectorrouter.ingest")

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


def map_redis_error(exc: BaseException, *, where: str = "") -> BaseException:
    """The one place redis-py's exceptions become ours; ``where`` (the queue's URL) prefixes the message."""
    import redis

    at = f"{where}: " if where else ""
    if isinstance(exc, redis.exceptions.TimeoutError):
        return TimeoutError_(f"{at}{exc}", backend="redis")
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.BusyLoadingError):
        return BackendUnavailable(f"{at}{str(exc) or type(exc).__name__}", backend="redis")
    if isinstance(exc, redis.exceptions.RedisError):
        return BackendUnavailable(f"{at}{type(exc).__name__}: {exc}", backend="redis")
    return exc


def redact_url(url: str) -> str:
    """``url`` fit for a log line or an error message: a password becomes ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    except ValueError:
        return "<unparseable redis url>"


def _text(value: Any) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)


def _entry_time(entry_id: str) -> float:
    """A stream entry id starts with the milliseconds at which it was added."""
    try:
        return int(entry_id.split("-", 1)[0]) / 1000
    except ValueError:
        return time.time()


def _read_entry(entry_id: str, fields: dict[Any, Any]) -> tuple[IngestEvent, str | None]:
    """The event a stream entry holds, or a malformed placeholder and why (``None`` when it is valid)."""
    raw = {_text(k): _text(v) for k, v in fields.items()}
    if "event" not in raw:
        reason = f"stream entry {entry_id} has no 'event' field (fields: {', '.join(sorted(raw)) or 'none'})"
    else:
        try:
            return IngestEvent.from_json(fields.get(b"event", raw["event"])), None
        except ValueError as exc:
            reason = f"stream entry {entry_id}: 'event' is not a valid event: {exc}"
    placeholder = IngestEvent.malformed(
        json.dumps(raw, ensure_ascii=False),
        reason,
        event_id=f"malformed-{entry_id}",
        enqueued_at=_entry_time(entry_id),
    )
    return placeholder, reason


def _read_stored(value: Any, *, event_id: str, where: str) -> IngestEvent:
    """An event kept as JSON outside the stream (delayed set, dead-letter hash), or a malformed placeholder."""
    try:
        return IngestEvent.from_json(value)
    except ValueError as exc:
        return IngestEvent.malformed(
            json.dumps({"event": _text(value)}, ensure_ascii=False),
            f"{where} holds something that is not a valid event: {exc}",
            event_id=event_id,
            enqueued_at=0.0,
        )


def _member_id(member: bytes) -> str:
    return f"malformed-delayed-{hashlib.sha256(member).hexdigest()[:16]}"


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
        #: Where the queue lives, for messages (a password in the URL is masked).
        self.url = redact_url(url)
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
            mapped = map_redis_error(exc, where=f"ingest queue at {self.url}")
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
        """Valid events only: a malformed entry claimed in the same batch is dead-lettered here (acknowledged
        with the reason and its raw fields), so it neither blocks the batch nor comes back."""

        def go() -> list[Delivery]:
            self._redis.eval(_PROMOTE, 2, self.delayed, self.stream, time.time(), 100)
            out: list[Delivery] = []
            bad: list[tuple[Delivery, str]] = []
            _next, abandoned, *_ = self._redis.xautoclaim(
                self.stream, self.group, consumer, self.visibility_ms, start_id="0-0", count=max_events
            )
            self._sort(abandoned, out, bad)
            if len(out) + len(bad) < max_events:
                block = int(block_seconds * 1000) if block_seconds > 0 else None
                resp = self._redis.xreadgroup(
                    self.group,
                    consumer,
                    {self.stream: ">"},
                    count=max_events - len(out) - len(bad),
                    block=block,
                )
                for _stream, entries in resp or []:
                    self._sort(entries, out, bad)
            if bad:
                self._bury(bad)
            return out

        return self._do(go)

    @staticmethod
    def _sort(entries: list[Any], good: list[Delivery], bad: list[tuple[Delivery, str]]) -> None:
        for entry_id, fields in entries:
            if not fields:  # deleted while pending
                continue
            rid = _text(entry_id)
            event, reason = _read_entry(rid, fields)
            if reason is None:
                good.append(Delivery(event, rid))
            else:
                bad.append((Delivery(event, rid), reason))

    def _bury(self, bad: list[tuple[Delivery, str]]) -> None:
        """Dead-letter malformed entries and acknowledge them in one transaction: parked, never dropped."""
        pipe = self._redis.pipeline(transaction=True)
        for delivery, _reason in bad:
            dead = delivery.event.failed(delivery.event.last_error)
            pipe.xack(self.stream, self.group, delivery.receipt)
            pipe.xdel(self.stream, delivery.receipt)
            pipe.hset(self.dlq, dead.event_id, dead.to_json())
        pipe.execute()
        for delivery, reason in bad:
            log.error(
                "ingest queue %s: dead-lettered as %s: %s", self.stream, delivery.event.event_id, reason
            )

    def _entries(self) -> list[tuple[str, IngestEvent]]:
        """Every stream entry (queued or in flight) as an event or a malformed placeholder."""
        out = []
        for entry_id, fields in self._redis.xrange(self.stream, "-", "+"):
            if fields:
                rid = _text(entry_id)
                out.append((rid, _read_entry(rid, fields)[0]))
        return out

    def _delayed(self) -> list[tuple[bytes, IngestEvent]]:
        return [
            (m, _read_stored(m, event_id=_member_id(m), where=self.delayed))
            for m in self._redis.zrange(self.delayed, 0, -1)
        ]

    def _dead(self) -> list[IngestEvent]:
        return [
            _read_stored(v, event_id=_text(k), where=f"{self.dlq} field {_text(k)}")
            for k, v in self._redis.hgetall(self.dlq).items()
        ]

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
        return sorted(self._do(self._dead), key=lambda e: e.enqueued_at)

    def replay(self, event_ids: Sequence[str] | None = None) -> int:
        """Malformed dead letters stay put: they hold no event a worker could apply."""

        def go() -> int:
            ids = [_text(k) for k in self._redis.hkeys(self.dlq)] if event_ids is None else list(event_ids)
            moved = 0
            for eid in ids:
                raw = self._redis.hget(self.dlq, eid)
                if raw is None:
                    continue
                dead = _read_stored(raw, event_id=eid, where=f"{self.dlq} field {eid}")
                if dead.is_malformed:
                    log.warning("dead letter %s is not a valid event and cannot be replayed", eid)
                    continue
                event = replace(dead, attempts=0, not_before=0.0)
                pipe = self._redis.pipeline(transaction=True)
                pipe.xadd(self.stream, {"event": event.to_json()})
                pipe.hdel(self.dlq, eid)
                pipe.execute()
                moved += 1
            return moved

        return self._do(go)

    def pending(self) -> int:
        return int(self._do(lambda: self._redis.xlen(self.stream) + self._redis.zcard(self.delayed)))

    def scan(self) -> Iterator[IngestEvent]:
        """Malformed entries are included as placeholders (``is_malformed``), ids that ``remove`` accepts."""

        def go() -> list[IngestEvent]:
            events = [e for _, e in self._entries()]
            events.extend(e for _, e in self._delayed())
            events.extend(self._dead())
            return events

        yield from self._do(go)

    def remove(self, event_ids: Sequence[str]) -> int:
        wanted = set(event_ids)

        def go() -> int:
            found = 0
            pipe = self._redis.pipeline(transaction=True)
            for entry_id, event in self._entries():
                if event.event_id in wanted:
                    pipe.xack(self.stream, self.group, entry_id)
                    pipe.xdel(self.stream, entry_id)
                    found += 1
            for member, event in self._delayed():
                if event.event_id in wanted:
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
