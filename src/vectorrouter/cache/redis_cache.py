"""The Redis result cache: answers to repeated searches, frequency-aware TTLs, invalidation on every write.

Layout (the namespace sits in braces, a Redis Cluster hash tag, so one namespace's keys share a slot)::

    {prefix}:{<namespace>}:gen                 generation, bumped by every write to the namespace
    {prefix}:{<namespace>}:e:<gen>:<digest>    one cached answer (JSON), kept ``stale_ttl`` seconds
    {prefix}:{<namespace>}:n:<digest>          how often this query was asked in the popularity window
    {prefix}:{<namespace>}:idx                 the entry keys, so invalidation needs no keyspace scan

An answer is *fresh* for ``hot_ttl`` seconds, or ``popular_ttl`` once the query was asked ``popular_after``
times within ``popularity_window`` (the long tail expires quickly, the head stays); after that it is kept as a
*stale* fallback until ``stale_ttl``, served only when every vector store of the namespace is down. A write bumps
the generation (an answer computed before the write can never be stored as current) and deletes the entries.

The cache never fails a search: every Redis error is mapped by :func:`map_redis_error` and the ladder treats it
as a miss. An invalidation (or a dropped namespace's purge) that could not reach Redis is remembered and replayed before the
next lookup, which is refused until it succeeds, so a deleted record is never served from the cache.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry

from vectorrouter.errors import BackendError, BackendUnavailable, ConfigurationError, Timeout
from vectorrouter.types import Hit

__all__ = ["CacheLookup", "CachedAnswer", "ResultCache", "map_redis_error"]

log = logging.getLogger("vectorrouter.cache")


def map_redis_error(exc: Exception) -> BackendError:
    """The one place redis-py's exceptions become vectorrouter errors."""
    if isinstance(exc, redis.TimeoutError):
        return Timeout(f"redis did not answer in time: {exc}", backend="redis")
    if isinstance(exc, redis.RedisError):
        return BackendUnavailable(f"{type(exc).__name__}: {exc}", backend="redis")
    return BackendUnavailable(f"unexpected {type(exc).__name__}: {exc}", backend="redis")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """One cached search answer."""

    hits: list[Hit]
    served_by: str
    stored_at: float
    fresh_until: float

    def fresh(self, now: float) -> bool:
        return now < self.fresh_until

    def age(self, now: float) -> float:
        return max(0.0, now - self.stored_at)


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """What a lookup found: the answer (fresh or stale, or none), the generation to store under, the query count."""

    answer: CachedAnswer | None
    generation: int
    asked: int


def _encode(hits: list[Hit], served_by: str, stored_at: float, fresh_until: float) -> str:
    return json.dumps(
        {
            "served_by": served_by,
            "stored_at": stored_at,
            "fresh_until": fresh_until,
            "hits": [
                {"id": h.id, "score": h.score, "text": h.text, "metadata": dict(h.metadata)} for h in hits
            ],
        },
        separators=(",", ":"),
    )


def _decode(raw: bytes | str) -> CachedAnswer:
    data = json.loads(raw)
    hits = [Hit(id=h["id"], score=h["score"], text=h["text"], metadata=h["metadata"]) for h in data["hits"]]
    return CachedAnswer(hits, data["served_by"], data["stored_at"], data["fresh_until"])


class ResultCache:
    """Search answers in Redis.

    >>> cache = ResultCache.from_url("redis://127.0.0.1:6379/0", prefix="vr:doc")   # doctest: +SKIP
    >>> found = cache.lookup("acme:docs:v1", digest)                                 # doctest: +SKIP
    >>> cache.store("acme:docs:v1", found.generation, digest, hits, "primary", asked=found.asked)  # doctest: +SKIP
    >>> cache.invalidate("acme:docs:v1")                                             # doctest: +SKIP
    """

    name = "redis"

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "vr:rc",
        hot_ttl: float = 30.0,
        popular_ttl: float = 600.0,
        popular_after: int = 3,
        popularity_window: float = 3600.0,
        stale_ttl: float = 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < hot_ttl <= popular_ttl <= stale_ttl:
            raise ConfigurationError(
                f"need 0 < hot_ttl ({hot_ttl}) <= popular_ttl ({popular_ttl}) <= stale_ttl ({stale_ttl})",
                field="ladder.cache",
                fix="fresh lifetimes cannot outlast how long entries are kept",
            )
        if popular_after < 1 or popularity_window <= 0:
            raise ConfigurationError(
                "popular_after must be ≥ 1 and popularity_window > 0", field="ladder.cache.popular_after"
            )
        self.client = client
        self.prefix = prefix
        self.hot_ttl = hot_ttl
        self.popular_ttl = popular_ttl
        self.popular_after = popular_after
        self.popularity_window = popularity_window
        self.stale_ttl = stale_ttl
        self.clock = clock
        #: Invalidations and purges that could not reach Redis, replayed before the next lookup.
        self._pending: dict[str, Literal["invalidate", "purge"]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float = 0.05, **kw: Any) -> ResultCache:
        """Connect with short socket timeouts and no client-side retries: a cache that is slow is skipped."""
        client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=RedisRetry(NoBackoff(), 0),
            health_check_interval=0,
        )
        return cls(client, **kw)

    # -- keys -------------------------------------------------------------------------------------
    def _base(self, namespace: str) -> str:
        return f"{self.prefix}:{{{namespace}}}"

    def _entry(self, namespace: str, generation: int, digest: str) -> str:
        return f"{self._base(namespace)}:e:{generation}:{digest}"

    # -- reads and writes -------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # redis-py raises RedisError subclasses and, on bad replies, others
            raise map_redis_error(exc) from exc

    def lookup(self, namespace: str, digest: str) -> CacheLookup:
        """Find the answer for ``digest`` and count the ask. Raises a :class:`BackendError` if Redis fails."""
        self._flush_pending()
        base = self._base(namespace)

        def go() -> CacheLookup:
            gen = int(self.client.get(f"{base}:gen") or 0)
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self._entry(namespace, gen, digest))
            counter = f"{base}:n:{digest}"
            pipe.set(counter, 0, ex=max(1, int(self.popularity_window)), nx=True)
            pipe.incr(counter)
            raw, _, asked = pipe.execute()
            answer = None
            if raw is not None:
                try:
                    answer = _decode(raw)
                except (ValueError, KeyError, TypeError):
                    log.warning("dropping an unreadable cache entry in %s", namespace)
                    self.client.delete(self._entry(namespace, gen, digest))
            return CacheLookup(answer, gen, int(asked))

        return self._call(go)  # type: ignore[no-any-return]

    def ttl_for(self, asked: int) -> float:
        """Fresh lifetime for a query asked ``asked`` times in the popularity window."""
        return self.popular_ttl if asked >= self.popular_after else self.hot_ttl

    def store(
        self, namespace: str, generation: int, digest: str, hits: list[Hit], served_by: str, *, asked: int = 1
    ) -> float:
        """Keep ``hits`` under the generation read by the lookup; returns the fresh lifetime chosen."""
        now = self.clock()
        ttl = self.ttl_for(asked)
        key = self._entry(namespace, generation, digest)
        body = _encode(hits, served_by, now, now + ttl)

        def go() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(key, body, ex=max(1, int(self.stale_ttl)))
            pipe.sadd(f"{self._base(namespace)}:idx", key)
            pipe.expire(f"{self._base(namespace)}:idx", max(1, int(self.stale_ttl)))
            pipe.execute()

        self._call(go)
        return ttl

    # -- invalidation and erasure -----------------------------------------------------------------
    def invalidate(self, namespace: str) -> int:
        """Forget every current answer of ``namespace`` (called after each write). Never raises: if Redis is down
        the invalidation is replayed before the next lookup. Returns how many entries were deleted."""
        return self._defer(namespace, "invalidate")

    def purge(self, namespace: str) -> int:
        """Erase everything held for a dropped ``namespace`` (answers of every generation and the query counters).
        Never raises: if Redis is down the purge is replayed before the next lookup of any namespace."""
        return self._defer(namespace, "purge")

    def _defer(self, namespace: str, what: Literal["invalidate", "purge"]) -> int:
        with self._lock:
            if self._pending.get(namespace) != "purge":
                self._pending[namespace] = what
        try:
            return self._flush_one(namespace)
        except BackendError as exc:
            log.warning("cache %s of %s deferred until Redis answers: %s", what, namespace, exc)
            return 0

    def _flush_pending(self) -> None:
        if not self._pending:  # the common case, without taking the lock
            return
        with self._lock:
            names = list(self._pending)
        for namespace in names:
            self._flush_one(namespace)

    def _flush_one(self, namespace: str) -> int:
        with self._lock:
            what = self._pending.get(namespace)
        if what is None:
            return 0
        base = self._base(namespace)

        def invalidate() -> int:
            # the generation only ever grows: an answer read before this write can never be stored as current
            self.client.incr(f"{base}:gen")
            keys = list(self.client.smembers(f"{base}:idx"))
            if keys:
                self.client.delete(*keys)
            self.client.delete(f"{base}:idx")
            return len(keys)

        def purge() -> int:
            self.client.incr(f"{base}:gen")
            keys = [k for k in self._scan(f"{base}:*") if not k.endswith(b":gen")]
            if keys:
                self.client.delete(*keys)
            return len(keys)

        removed: int = self._call(purge if what == "purge" else invalidate)
        with self._lock:
            if self._pending.get(namespace) == what:
                del self._pending[namespace]
        return removed

    def _scan(self, pattern: str) -> Iterator[bytes]:
        return self.client.scan_iter(match=pattern, count=500)

    def residue(self, namespace: str | None = None) -> list[str]:
        """Every key still holding answers or query counters for ``namespace`` (all namespaces when ``None``),
        for audits. The per-namespace generation counter holds no user data and is not listed."""
        pattern = f"{self._base(namespace)}:*" if namespace is not None else f"{self.prefix}:*"
        keys = self._call(lambda: list(self._scan(pattern)))
        return sorted(
            k for k in (k.decode() if isinstance(k, bytes) else k for k in keys) if not k.endswith(":gen")
        )

    def delete_namespace(self, namespace: str) -> int:
        """Erase everything held for ``namespace`` now, for an erasure request. Unlike :meth:`purge` it raises if
        Redis is unreachable: an erasure must not report success it did not achieve."""
        with self._lock:
            self._pending[namespace] = "purge"
        return self._flush_one(namespace)

    def ping(self) -> bool:
        return bool(self._call(self.client.ping))

    def close(self) -> None:
        self.client.close()
