"""A compliance-attached router whose result cache, embedding cache (L2) and ingest queue live in real Redis,
under a unique key prefix, with region-tagged scripted stores. Shared by the forget and property tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import redis

from vectorrouter import EmbeddingService, ModelSpec, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.cache import ResultCache
from vectorrouter.compliance import (
    Compliance,
    Keyring,
    MetadataAllowlist,
    NamespacePolicy,
    ResidencyPolicy,
)
from vectorrouter.compliance.testing import MemoryKeyword
from vectorrouter.embeddings.cache import GuardedLayer, LayeredCache, MemoryLayer, cache_key, normalize_text
from vectorrouter.embeddings.cache_redis import RedisLayer
from vectorrouter.ingest.redis_queue import RedisStreamQueue
from vectorrouter.ladder import CacheStep, KeywordStep, Ladder, StepPolicy, VectorStep
from vectorrouter.testing.scripted import Script

SECRET = b"redis-rig-secret-of-at-least-32-bytes"
MODELS = [ModelSpec("h32", "hash", 32), ModelSpec("h64", "hash", 64)]
#: Vector stores and their regions; the cache serves both regions, the keyword store only the EU.
VECTOR_STORES = {"primary-eu": "EU", "primary-us": "US", "secondary-eu": "EU"}
STORE_REGIONS = {**{k: {v} for k, v in VECTOR_STORES.items()}, "cache": {"EU", "US"}, "keyword-eu": {"EU"}}
FAST = StepPolicy(timeout=None, retries=0, write_attempts=1, failure_threshold=1000)


@dataclass
class RedisRig:
    router: Router
    compliance: Compliance
    client: redis.Redis
    prefix: str
    scripts: dict[str, Script]
    #: The raw stores behind each scripted vector step, by step name then index name.
    stores: dict[str, dict[str, NumpyBackend]]
    keyword: MemoryKeyword
    queue: RedisStreamQueue
    embed_layer: RedisLayer
    regions: dict[str, str] = field(default_factory=dict)

    def held(self, step: str, namespace: str) -> int:
        return sum(b.count(namespace) for b in self.stores[step].values())

    def redis_values(self) -> list[bytes]:
        """Every value (strings, hashes, sorted sets, streams) under this rig's prefix."""
        out: list[bytes] = []
        for key in self.client.scan_iter(match=f"{self.prefix}*", count=500):
            kind = self.client.type(key)
            if kind == b"string":
                out.append(self.client.get(key) or b"")
            elif kind == b"hash":
                out += list(self.client.hvals(key))
            elif kind == b"zset":
                out += list(self.client.zrange(key, 0, -1))
            elif kind == b"stream":
                out += [v for _, fields in self.client.xrange(key) for v in fields.values()]
            elif kind == b"set":
                out += list(self.client.smembers(key))
        return out

    def embedding_keys_of(self, texts: Iterable[str]) -> int:
        """How many L2 embedding entries exist for these texts, under any declared model and task."""
        keys = [
            f"{self.embed_layer.prefix}{cache_key(spec.fingerprint(task), task, normalize_text(t)).key}"
            for t in texts
            for spec in MODELS
            for task in ("query", "document")
        ]
        return int(self.client.exists(*keys)) if keys else 0

    def close(self) -> None:
        self.router.close()
        self.compliance.close()
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=500))
        if keys:
            self.client.delete(*keys)
        self.client.close()


def _factory(script: Script, opened: dict[str, NumpyBackend]):  # type: ignore[no-untyped-def]
    def make(spec):  # type: ignore[no-untyped-def]
        backend = NumpyBackend(spec)
        opened[spec.name] = backend
        return script.wrap(backend)

    return make


def build_rig(url: str, prefix: str, regions: Mapping[str, str]) -> RedisRig:
    """``regions`` maps each tenant to its region (EU or US)."""
    client = redis.Redis.from_url(url)
    scripts = {name: Script() for name in VECTOR_STORES}
    stores: dict[str, dict[str, NumpyBackend]] = {name: {} for name in VECTOR_STORES}
    keyword = MemoryKeyword()
    result_cache = ResultCache(redis.Redis.from_url(url), prefix=f"{prefix}:rc")
    steps = [
        *(VectorStep(n, _factory(scripts[n], stores[n]), policy=FAST) for n in VECTOR_STORES),
        CacheStep("cache", result_cache),
        KeywordStep("keyword-eu", keyword, policy=FAST),
    ]
    embed_layer = RedisLayer(redis.Redis.from_url(url), prefix=f"{prefix}:emb:")
    embeddings = EmbeddingService(
        MODELS, cache=LayeredCache([MemoryLayer(10_000), GuardedLayer(embed_layer)])
    )
    queue = RedisStreamQueue(url, prefix=f"{prefix}:ingest")
    router = Router(embeddings=embeddings, ladder=Ladder(steps), default_model="h32", queue=queue)
    compliance = Compliance(
        keyring=Keyring({"k1": SECRET}),
        allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang"})}),
        residency=ResidencyPolicy({f"{t}:*": r for t, r in regions.items()}, STORE_REGIONS),
    ).attach(router)
    return RedisRig(
        router, compliance, client, prefix, scripts, stores, keyword, queue, embed_layer, dict(regions)
    )
