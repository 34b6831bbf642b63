"""The caches as erasure places: the result cache and the layered embedding cache.

What counts as a user's residue in each, and what does not:

- **Result cache** (Redis): a cached answer holds hits with their text and metadata, so an answer naming the
  user in a user-reference field is residue. Every entry of every namespace is read back and checked (stale
  ones kept for outages too). The per-query popularity counters hold a SHA-256 digest of a query and a
  count, and the generation counter a number: no record content, not attributable to a user, not residue.
- **Embedding cache** (L1 memory, L2 Redis, L3 SQL): entries are keyed by a digest of the model fingerprint,
  task and text, so a user's vectors can only be found through the *embedding trail* the ingest path keeps
  (:class:`EmbeddingTrail`): the cache keys of each user's texts under every declared model version, and the
  texts' digests. Layers that index text digests (memory, SQL) are cleared of every version and task of
  those texts; the Redis layer by the recorded keys. Query-side entries (a search's own text) carry no user
  reference and are not tracked; a cached vector of a text another user also ingested goes too (it is a
  cache: the next embedding call recomputes it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from vectorrouter.cache.redis_cache import map_redis_error
from vectorrouter.compliance.erasure import ErasureTarget
from vectorrouter.compliance.index import ErasureIndex
from vectorrouter.embeddings.cache import CacheKey, cache_key, normalize_text, text_digest
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Record

if TYPE_CHECKING:
    from vectorrouter.cache.redis_cache import ResultCache
    from vectorrouter.embeddings import EmbeddingService
    from vectorrouter.router import Router

__all__ = ["CachePlaces", "EmbeddingCachePlace", "EmbeddingTrail", "ResultCachePlace"]

#: Ingest embeds with the ``document`` task; query-task entries hold no user reference.
_TASK: Literal["document"] = "document"


class EmbeddingTrail:
    """Ingest hook (after the keyed ids): remember which embedding-cache entries each user's texts will fill.

    One row per (user, declared model version): a migration's mirror write or backfill re-embeds the same text
    with another version, and those entries must be found too.
    """

    def __init__(self, embeddings: EmbeddingService, index: ErasureIndex, user_fields: Sequence[str]) -> None:
        self.embeddings = embeddings
        self.index = index
        self.user_fields = tuple(user_fields)

    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]:
        specs = [self.embeddings.spec(v) for v in self.embeddings.versions()]
        rows: list[tuple[str, str, str]] = []
        for r in records:
            users = [u for f in self.user_fields if isinstance(u := r.metadata.get(f), str)]
            if not users or not r.text or r.vector is not None:
                continue
            norm = normalize_text(r.text)
            th = text_digest(norm)
            keys = [cache_key(s.fingerprint(_TASK), _TASK, norm, normalized=True).key for s in specs]
            rows += [(u, th, k) for u in users for k in keys]
        self.index.add_texts(rows)
        return records


class EmbeddingCachePlace:
    """Every layer of the router's embedding cache (a layer that is down makes the place unverified)."""

    name = "embedding-cache"

    def __init__(self, embeddings: EmbeddingService) -> None:
        self.embeddings = embeddings

    @staticmethod
    def _keys(target: ErasureTarget) -> tuple[list[CacheKey], list[str]]:
        keys = [CacheKey(k, th, "", _TASK) for th, k in target.cache_keys]
        return keys, sorted({th for th, _ in target.cache_keys})

    def erase(self, target: ErasureTarget) -> int:
        keys, hashes = self._keys(target)
        return sum(self.embeddings.cache.forget(keys, hashes).values()) if keys else 0

    def residue(self, target: ErasureTarget) -> int:
        keys, hashes = self._keys(target)
        return self.embeddings.cache.residue(keys, hashes).total if keys else 0


class ResultCachePlace:
    """One Redis result cache: every cached answer (fresh or stale, any namespace) with a hit of the user."""

    def __init__(self, name: str, cache: ResultCache) -> None:
        self.cache = cache
        self.name = f"result-cache:{name}"

    def _owned(self, target: ErasureTarget) -> list[bytes]:
        client = self.cache.client
        try:
            keys = [k for k in client.scan_iter(match=f"{self.cache.prefix}:*", count=500) if b":e:" in k]
            owned: list[bytes] = []
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for key, raw in zip(chunk, client.mget(chunk), strict=True):
                    if raw is not None and _names_user(raw, target):
                        owned.append(key)
            return owned
        except Exception as exc:  # redis-py errors become ours at one place
            raise map_redis_error(exc) from exc

    def erase(self, target: ErasureTarget) -> int:
        owned = self._owned(target)
        if owned:
            try:
                self.cache.client.delete(*owned)
            except Exception as exc:
                raise map_redis_error(exc) from exc
        return len(owned)

    def residue(self, target: ErasureTarget) -> int:
        return len(self._owned(target))


def _names_user(raw: bytes | str, target: ErasureTarget) -> bool:
    try:
        hits = json.loads(raw)["hits"]
    except (ValueError, KeyError, TypeError):
        return True  # an entry nobody can read cannot be shown clean: erase it
    return any(target.owns(h.get("metadata") or {}) for h in hits)


class CachePlaces:
    """Place provider for a router's result caches (ladder cache steps) and its embedding cache."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def places(self, target: ErasureTarget) -> Iterator[ResultCachePlace | EmbeddingCachePlace]:
        for step in self.router.ladder.cache_steps():
            yield ResultCachePlace(step.name, step.cache)
        yield EmbeddingCachePlace(self.router.embeddings)
