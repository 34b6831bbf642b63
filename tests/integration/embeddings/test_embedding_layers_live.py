"""The layered cache on real servers: lower-layer hits fill the upper layers, a new process finds what an
earlier one paid for, and Redis stopped mid-run loses nothing and only costs provider calls."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorrouter.config import EmbeddingCacheConfig
from vectorrouter.embeddings import (
    EmbeddingService,
    GuardedLayer,
    HashEmbedder,
    LayeredCache,
    MemoryLayer,
    ModelSpec,
    Task,
)
from vectorrouter.embeddings.cache_redis import RedisLayer
from vectorrouter.embeddings.cache_sql import SQLiteStore

SPEC = ModelSpec(version="v1", provider="hash", dimensions=16)


class Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(16)
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts, task)


def service(layers: list[object], emb: Counting) -> EmbeddingService:
    return EmbeddingService([SPEC], embedders={"v1": emb}, cache=LayeredCache(layers))  # type: ignore[arg-type]


def test_a_persistent_hit_fills_redis_and_memory(tmp_path: Path, redis_url: str, unique: str) -> None:
    texts = ["first document", "second document"]
    store = SQLiteStore(tmp_path / "c.sqlite")
    writer = service([MemoryLayer(100), store], Counting())
    expected = writer.embed("v1", texts, "document")

    memory, redis_layer = MemoryLayer(100), RedisLayer.from_url(redis_url, prefix=f"{unique}:")
    emb = Counting()
    reader = service([memory, GuardedLayer(redis_layer), store], emb)
    np.testing.assert_array_equal(reader.embed("v1", texts, "document"), expected)
    assert emb.texts == []
    assert len(memory) == 2
    assert len(list(redis_layer.client.scan_iter(f"{unique}:*"))) == 2
    assert reader.cache.hits == {"memory": 0, "redis": 0, "sqlite": 2}
    redis_layer.client.delete(*redis_layer.client.scan_iter(f"{unique}:*"))


def test_a_new_process_reuses_what_an_earlier_one_paid_for(tmp_path: Path) -> None:
    cfg = EmbeddingCacheConfig(persistent="sqlite")
    first = Counting()
    svc = EmbeddingService([SPEC], embedders={"v1": first}, cache=cfg.build(tmp_path))
    svc.embed("v1", ["paid once"], "query")
    svc.close()
    second = Counting()
    svc2 = EmbeddingService([SPEC], embedders={"v1": second}, cache=cfg.build(tmp_path))
    svc2.embed("v1", ["paid once"], "query")
    svc2.close()
    assert first.texts == ["paid once"]
    assert second.texts == []


def test_postgres_is_the_persistent_layer_when_configured(
    tmp_path: Path, postgres_dsn: str, unique: str
) -> None:
    cfg = EmbeddingCacheConfig(persistent="postgres", database_url=postgres_dsn, postgres_schema=unique)
    emb = Counting()
    svc = EmbeddingService([SPEC], embedders={"v1": emb}, cache=cfg.build(tmp_path))
    svc.embed("v1", ["stored in postgres"], "document")
    svc.close()
    fresh = Counting()
    svc2 = EmbeddingService([SPEC], embedders={"v1": fresh}, cache=cfg.build(tmp_path))
    try:
        svc2.embed("v1", ["stored in postgres"], "document")
        assert fresh.texts == []
        assert svc2.forget(["stored in postgres"])["postgres"] == 1
        assert svc2.residue(["stored in postgres"]).total == 0
    finally:
        pg = svc2.cache.layers[-1].layer  # type: ignore[union-attr]
        pg._run(lambda c: c.execute(f'DROP SCHEMA IF EXISTS "{unique}" CASCADE'))
        svc2.close()


def test_redis_stopped_mid_run_loses_nothing_and_only_slows_down(
    throwaway_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    emb = Counting()
    # no L1, so every lookup needs Redis: the outage's cost shows up directly as provider calls
    svc = service([GuardedLayer(RedisLayer.from_url(throwaway_redis.url, prefix="vr:"))], emb)
    before = [f"cached before the outage {i}" for i in range(20)]
    reference = HashEmbedder(16).embed(before, "document")
    np.testing.assert_allclose(svc.embed("v1", before, "document"), reference)
    assert len(emb.texts) == 20
    np.testing.assert_allclose(svc.embed("v1", before, "document"), reference)
    assert len(emb.texts) == 20  # served by Redis

    throwaway_redis.stop()
    with caplog.at_level(logging.WARNING, logger="vectorrouter.embeddings.cache"):
        during = [f"new during the outage {i}" for i in range(10)]
        out1 = svc.embed("v1", before, "document")
        out2 = svc.embed("v1", during, "document")
    np.testing.assert_allclose(out1, reference)  # nothing lost: the provider answered instead
    np.testing.assert_allclose(out2, HashEmbedder(16).embed(during, "document"))
    assert len(emb.texts) == 20 + 20 + 10  # only slower: the cached texts were paid again
    assert any("redis is unavailable" in r.message for r in caplog.records)
    assert svc.cache.layers[0].skipped >= 1  # type: ignore[union-attr]


def test_redis_back_after_the_cooldown_is_used_again(throwaway_redis: Any) -> None:
    from vectorrouter.policies import FakeClock

    clock = FakeClock()
    guarded = GuardedLayer(RedisLayer.from_url(throwaway_redis.url, prefix="vr:"), cooldown=5, clock=clock)
    emb = Counting()
    svc = service([guarded], emb)
    throwaway_redis.stop()
    svc.embed("v1", ["during"], "query")
    assert guarded.breaker.state == "open"
    throwaway_redis.start()
    clock.advance(5)
    svc.embed("v1", ["after"], "query")
    svc.embed("v1", ["after"], "query")
    assert emb.texts == ["during", "after"]  # the second "after" came from Redis again
