"""One contract for every cache store: SQLite and PostgreSQL (both real) pass the same tests, and the Redis
layer passes the key-level part of it against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorrouter.embeddings.cache import CacheKey, MemoryLayer, TextIndexedLayer, cache_key


def key(text: str, version: str = "v1", task: str = "document") -> CacheKey:
    return cache_key(f"{version}|hash|m|4|{task}||", task, text)


def vec(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


class CacheLayerContract:
    """Key-level behaviour every layer has. Subclasses provide the ``layer`` fixture."""

    def test_put_then_get_returns_the_exact_float32_bits(self, layer: Any) -> None:
        k = key("alpha")
        v = vec(0.1, -2.5, 3.0e-8, 1.0 / 3.0)
        layer.put_many([(k, v)])
        got = layer.get_many([k])[k.key]
        assert got.dtype == np.float32
        assert got.tobytes() == v.tobytes()

    def test_missing_keys_are_absent_not_none(self, layer: Any) -> None:
        k1, k2 = key("present"), key("absent")
        layer.put_many([(k1, vec(1, 2, 3, 4))])
        assert set(layer.get_many([k1, k2])) == {k1.key}
        assert layer.get_many([]) == {}

    def test_put_replaces_an_existing_entry(self, layer: Any) -> None:
        k = key("beta")
        layer.put_many([(k, vec(1, 1, 1, 1))])
        layer.put_many([(k, vec(2, 2, 2, 2))])
        assert layer.get_many([k])[k.key].tolist() == [2, 2, 2, 2]

    def test_versions_and_tasks_are_distinct_entries(self, layer: Any) -> None:
        keys = [key("same"), key("same", version="v2"), key("same", task="query")]
        assert len({k.key for k in keys}) == 3
        layer.put_many([(k, vec(i, i, i, i)) for i, k in enumerate(keys)])
        got = layer.get_many(keys)
        assert [got[k.key][0] for k in keys] == [0, 1, 2]

    def test_delete_removes_and_counts_only_existing_entries(self, layer: Any) -> None:
        k1, k2 = key("gamma"), key("never stored")
        layer.put_many([(k1, vec(1, 2, 3, 4))])
        assert layer.delete([k1, k2]) == 1
        assert layer.get_many([k1]) == {}
        assert layer.present([k1, k2]) == set()

    def test_present_reports_which_keys_exist(self, layer: Any) -> None:
        ks = [key(f"t{i}") for i in range(5)]
        layer.put_many([(k, vec(1, 0, 0, 0)) for k in ks[:3]])
        assert layer.present(ks) == {k.key for k in ks[:3]}

    def test_large_batches_round_trip(self, layer: Any) -> None:
        ks = [key(f"bulk {i}") for i in range(1200)]
        layer.put_many([(k, vec(i, 0, 0, 1)) for i, k in enumerate(ks)])
        got = layer.get_many(ks)
        assert len(got) == 1200
        assert got[ks[1199].key][0] == 1199


class TextIndexedContract(CacheLayerContract):
    """Persistent stores also find every entry of a text by its digest (erasure across versions)."""

    def test_delete_texts_reaches_every_version_and_task(self, layer: TextIndexedLayer) -> None:
        doomed = [key("alice"), key("alice", version="old"), key("alice", task="query")]
        kept = key("bob")
        layer.put_many([(k, vec(1, 1, 1, 1)) for k in [*doomed, kept]])
        assert layer.count_texts([doomed[0].text_hash]) == 3
        assert layer.delete_texts([doomed[0].text_hash]) == 3
        assert layer.count_texts([doomed[0].text_hash]) == 0
        assert layer.present([kept]) == {kept.key}


class TestMemoryLayer(TextIndexedContract):
    @pytest.fixture
    def layer(self) -> MemoryLayer:
        return MemoryLayer(10_000)


class TestSQLiteStore(TextIndexedContract):
    @pytest.fixture
    def layer(self, tmp_path: Path) -> Iterator[Any]:
        from vectorrouter.embeddings.cache_sql import SQLiteStore

        store = SQLiteStore(tmp_path / "cache.sqlite")
        yield store
        store.close()

    def test_entries_survive_a_reopen(self, tmp_path: Path) -> None:
        from vectorrouter.embeddings.cache_sql import SQLiteStore

        k = key("durable")
        first = SQLiteStore(tmp_path / "c.sqlite")
        first.put_many([(k, vec(4, 3, 2, 1))])
        first.close()
        again = SQLiteStore(tmp_path / "c.sqlite")
        assert again.get_many([k])[k.key].tolist() == [4, 3, 2, 1]
        again.close()


class TestPostgresStore(TextIndexedContract):
    @pytest.fixture
    def layer(self, postgres_dsn: str, unique: str) -> Iterator[Any]:
        from vectorrouter.embeddings.cache_sql import PostgresStore

        store = PostgresStore(postgres_dsn, schema=unique)
        yield store
        store._run(lambda c: c.execute(f'DROP SCHEMA IF EXISTS "{unique}" CASCADE'))
        store.close()

    def test_entries_survive_a_reconnect(self, postgres_dsn: str, unique: str) -> None:
        from vectorrouter.embeddings.cache_sql import PostgresStore

        k = key("durable")
        first = PostgresStore(postgres_dsn, schema=unique)
        first.put_many([(k, vec(4, 3, 2, 1))])
        first.close()
        again = PostgresStore(postgres_dsn, schema=unique)
        try:
            assert again.get_many([k])[k.key].tolist() == [4, 3, 2, 1]
        finally:
            again._run(lambda c: c.execute(f'DROP SCHEMA IF EXISTS "{unique}" CASCADE'))
            again.close()


class TestRedisLayer(CacheLayerContract):
    @pytest.fixture
    def layer(self, redis_url: str, unique: str) -> Iterator[Any]:
        from vectorrouter.embeddings.cache_redis import RedisLayer

        layer = RedisLayer.from_url(redis_url, prefix=f"{unique}:", ttl=300)
        yield layer
        keys = list(layer.client.scan_iter(f"{unique}:*"))
        if keys:
            layer.client.delete(*keys)
        layer.close()

    def test_entries_expire_with_the_ttl(self, redis_url: str, unique: str) -> None:
        from vectorrouter.embeddings.cache_redis import RedisLayer

        layer = RedisLayer.from_url(redis_url, prefix=f"{unique}:", ttl=60)
        k = key("ttl")
        layer.put_many([(k, vec(1, 2, 3, 4))])
        assert 0 < layer.client.ttl(f"{unique}:{k.key}") <= 60
        layer.delete([k])
        layer.close()
