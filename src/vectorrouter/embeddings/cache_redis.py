"""L2: embeddings in Redis, shared by every process of a deployment.

Values are raw little-endian float32 bytes under ``{prefix}{key}`` with a TTL, read with one ``MGET`` and
written with one pipelined batch of ``SET … EX``. Socket timeouts are short on purpose: a slow cache must
cost less than the provider call it saves. Wrap it in :class:`~vectorrouter.embeddings.cache.GuardedLayer`
(the service does) so a Redis outage is logged and skipped instead of failing an embedding call.

>>> layer = RedisLayer.from_url("redis://127.0.0.1:6379/0", prefix="vr:doc:")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from vectorrouter.embeddings.cache import CacheKey, decode_vector, encode_vector
from vectorrouter.errors import BackendUnavailable, ConfigurationError, Timeout, VectorRouterError

__all__ = ["RedisLayer", "map_redis_error"]

T = TypeVar("T")


def map_redis_error(exc: Exception) -> VectorRouterError:
    """The one place redis-py exceptions become vectorrouter errors."""
    import redis.exceptions as rex

    if isinstance(exc, rex.TimeoutError):
        return Timeout(f"redis did not answer in time ({exc})", backend="redis")
    if isinstance(exc, rex.AuthenticationError | rex.AuthorizationError):
        return ConfigurationError(
            f"redis refused the credentials: {exc}",
            field="embeddings.cache.redis_url",
            fix="put the right user/password in the URL",
        )
    return BackendUnavailable(f"redis failed: {exc}", backend="redis")


class RedisLayer:
    """A Redis-backed cache layer with TTL (``ttl=None`` keeps entries until evicted by Redis itself)."""

    name = "redis"

    def __init__(self, client: Any, *, prefix: str = "vr:emb:", ttl: int | None = 30 * 24 * 3600) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "vr:emb:",
        ttl: int | None = 30 * 24 * 3600,
        socket_timeout: float = 0.25,
    ) -> RedisLayer:
        try:
            import redis
        except ImportError as exc:
            raise ConfigurationError(
                "the Redis embedding cache needs the 'redis' extra",
                field="embeddings.cache.redis_url",
                fix="pip install 'vectorrouter[redis]'",
            ) from exc
        client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, retry_on_timeout=False
        )
        return cls(client, prefix=prefix, ttl=ttl)

    def _k(self, key: CacheKey) -> str:
        return f"{self.prefix}{key.key}"

    def _run(self, fn: Callable[[], T]) -> T:
        import redis.exceptions as rex

        try:
            return fn()
        except rex.RedisError as exc:
            raise map_redis_error(exc) from exc
        except OSError as exc:  # a socket error redis-py did not wrap
            raise BackendUnavailable(f"redis connection failed: {exc}", backend="redis") from exc

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        if not keys:
            return {}
        values = self._run(lambda: self.client.mget([self._k(k) for k in keys]))
        return {k.key: decode_vector(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        if not items:
            return

        def write() -> None:
            pipe = self.client.pipeline(transaction=False)
            for k, vec in items:
                pipe.set(self._k(k), encode_vector(vec), ex=self.ttl)
            pipe.execute()

        self._run(write)

    def delete(self, keys: Sequence[CacheKey]) -> int:
        if not keys:
            return 0
        return int(self._run(lambda: self.client.delete(*[self._k(k) for k in keys])))

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        if not keys:
            return set()

        def check() -> list[Any]:
            pipe = self.client.pipeline(transaction=False)
            for k in keys:
                pipe.exists(self._k(k))
            return list(pipe.execute())

        return {k.key for k, hit in zip(keys, self._run(check), strict=True) if hit}

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection must not mask the real outcome
            self.client.close()
