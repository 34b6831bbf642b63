"""The Redis result cache on a real server: fresh hits, frequency-aware TTLs, invalidation, stale fallback,
and a Redis outage that never fails a search."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
import redis
from tests.support.services import require_redis, throwaway_redis, unique_prefix
from tests.unit.ladder.rig import NS, POLICY, Rig, make_rig

from vectorrouter.cache import ResultCache, result_key
from vectorrouter.ladder import CacheStep, StepPolicy
from vectorrouter.policies import FakeClock
from vectorrouter.types import Hit, Record


class WallClock:
    """The cache's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def cache(wall: WallClock) -> Iterator[ResultCache]:
    url = require_redis()
    c = ResultCache(
        redis.Redis.from_url(url),
        prefix=unique_prefix("rc"),
        hot_ttl=30,
        popular_ttl=600,
        popular_after=3,
        stale_ttl=3600,
        clock=wall,
    )
    yield c
    keys = c.residue()
    if keys:
        c.client.delete(*keys)
    c.close()


def rig_with(cache: ResultCache, policy: StepPolicy = POLICY) -> Rig:
    clock = FakeClock()
    cache_policy = StepPolicy(timeout=None, retries=0, failure_threshold=3, recovery_timeout=5.0)
    return make_rig(
        policy=policy, clock=clock, extra=[CacheStep("cache", cache, policy=cache_policy, clock=clock)]
    )


@pytest.fixture
def rig(cache: ResultCache) -> Iterator[Rig]:
    r = rig_with(cache)
    yield r
    r.close()


def test_repeated_query_is_served_fresh_from_the_cache_without_calling_a_store(rig: Rig) -> None:
    first = rig.search(mode="dense")
    assert first.served_by == "primary"
    assert [(a.step, a.outcome) for a in first.attempts] == [("cache", "empty"), ("primary", "ok")]
    calls = rig.primary.calls["search"]
    again = rig.search(mode="dense")
    assert (again.served_by, again.degraded, again.stale) == ("cache", False, False)
    assert again.ids == first.ids
    assert again.hits[0].text == first.hits[0].text
    assert dict(again.hits[0].metadata) == dict(first.hits[0].metadata)
    assert "first served by primary" in again.attempts[0].detail
    assert rig.primary.calls["search"] == calls


def test_queries_differing_in_case_and_spacing_share_an_entry(rig: Rig) -> None:
    rig.search("Luminous galactic quasar", mode="dense")
    assert rig.search("  luminous   GALACTIC quasar ", mode="dense").served_by == "cache"
    assert rig.search("luminous galactic quasar", mode="dense", k=3).served_by == "primary", "k is in the key"
    assert rig.search("luminous galactic quasar", mode="keyword").served_by == "keyword", "so is the mode"


def test_popular_queries_earn_the_longer_fresh_lifetime(cache: ResultCache, wall: WallClock) -> None:
    digest = "d" * 64
    hits = [Hit(id="x", score=1.0, text="t")]
    lifetimes = []
    for _ in range(4):
        found = cache.lookup("acme:docs:v1", digest)
        lifetimes.append(
            cache.store("acme:docs:v1", found.generation, digest, hits, "primary", asked=found.asked)
        )
    assert lifetimes == [30, 30, 600, 600]
    wall.t += 31
    answer = cache.lookup("acme:docs:v1", digest).answer
    assert answer is not None
    assert answer.fresh(wall.t), "a popular answer is still fresh after the hot lifetime"


def test_writes_and_deletes_invalidate_the_namespace(rig: Rig) -> None:
    rig.search(mode="dense")
    rig.router.ingest(NS, [Record(id="nova", text="a nova is a sudden luminous star")])
    assert rig.search(mode="dense").served_by == "primary", "the ingest dropped the cached answer"
    assert rig.search(mode="dense").served_by == "cache"
    rig.router.delete(NS, ["quasar"])
    res = rig.search(mode="dense")
    assert res.served_by == "primary"
    assert "quasar" not in res.ids


def test_an_answer_computed_before_a_write_is_never_served_after_it(cache: ResultCache) -> None:
    digest = "e" * 64
    found = cache.lookup("acme:docs:v1", digest)
    cache.invalidate("acme:docs:v1")  # a write lands while the search is still running
    cache.store("acme:docs:v1", found.generation, digest, [Hit(id="old", score=1.0)], "primary")
    assert cache.lookup("acme:docs:v1", digest).answer is None


def test_stale_answer_is_served_when_every_vector_store_is_down_before_keyword(
    rig: Rig, wall: WallClock
) -> None:
    fresh = rig.search(mode="dense")
    wall.t += 1000  # past every fresh lifetime, inside the one-hour stale retention
    rig.primary.kill()
    rig.secondary.kill()
    res = rig.search(mode="dense")
    assert (res.served_by, res.degraded, res.stale) == ("cache", True, True)
    assert res.ids == fresh.ids
    assert [(a.step, a.outcome) for a in res.attempts] == [
        ("cache", "empty"),
        ("primary", "error"),
        ("secondary", "error"),
        ("cache", "ok"),
    ]
    assert "stale answer (1000s old, served by primary)" in res.attempts[-1].detail
    assert rig.keyword.calls["search"] == 0


def test_without_a_cached_answer_the_walk_goes_on_to_keyword(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()
    res = rig.search(mode="dense")
    assert (res.served_by, res.stale) == ("keyword", False)
    assert ("cache", "empty") in [(a.step, a.outcome) for a in res.attempts[1:]]


def test_stale_hybrid_answer_is_preferred_to_keyword_only(rig: Rig, wall: WallClock) -> None:
    rig.search()
    wall.t += 100
    rig.primary.kill()
    rig.secondary.kill()
    res = rig.search()
    assert (res.served_by, res.stale) == ("cache", True)


def test_degraded_answers_are_never_cached(rig: Rig) -> None:
    rig.primary.kill()
    rig.secondary.kill()
    assert rig.search(mode="dense").served_by == "keyword"
    rig.primary.revive()
    rig.secondary.revive()
    rig.clock.advance(POLICY.recovery_timeout)
    assert rig.search(mode="dense").served_by == "primary", "the keyword answer was not stored as a dense one"


def test_residue_lists_and_delete_namespace_erases_every_key(rig: Rig, cache: ResultCache) -> None:
    rig.search(mode="dense")
    rig.search(mode="keyword")
    ns = rig.search(mode="dense").namespace
    keys = cache.residue(ns)
    assert any(":e:" in k for k in keys)
    assert any(":n:" in k for k in keys)
    assert all(ns in k for k in keys)
    assert cache.delete_namespace(ns) == len(keys)
    assert cache.residue(ns) == []


def test_redis_outage_skips_the_cache_and_never_fails_a_search() -> None:
    with throwaway_redis() as server:
        cache = ResultCache.from_url(server.url, prefix="vr:outage")
        rig = rig_with(cache)
        try:
            rig.search(mode="dense")
            assert rig.search(mode="dense").served_by == "cache"
            server.kill()
            for _ in range(6):
                res = rig.search(mode="dense")
                assert res.served_by == "primary"
                assert res.attempts[0].step == "cache"
                assert res.attempts[0].outcome in ("error", "skipped")
            cache_step = rig.router.ladder.steps["cache"]
            assert cache_step.breaker.state == "open", "a dead cache is skipped without connecting"
            server.start()
            rig.clock.advance(cache_step.policy.recovery_timeout)
            assert rig.search(mode="dense").served_by == "primary", "empty after the restart"
            assert cache_step.breaker.state == "closed", "the half-open probe found Redis back"
            assert rig.search(mode="dense").served_by == "cache"
        finally:
            rig.close()


def test_an_invalidation_that_missed_redis_is_replayed_before_the_next_lookup() -> None:
    with throwaway_redis() as server:
        cache = ResultCache.from_url(server.url, prefix="vr:replay")
        digest = result_key(
            namespace="a:b:v", model_version="v", query="q", vector=None, filter=None, k=1, mode="dense"
        )
        found = cache.lookup("a:b:v", digest)
        cache.store("a:b:v", found.generation, digest, [Hit(id="gone", score=1.0)], "primary")
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGSTOP)  # Redis hangs: the invalidation times out
        try:
            assert cache.invalidate("a:b:v") == 0
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert cache.lookup("a:b:v", digest).answer is None, "the deferred invalidation ran first"
        cache.close()


def test_dropping_a_namespace_purges_answers_of_every_generation(rig: Rig, cache: ResultCache) -> None:
    first = rig.search(mode="dense")
    rig.router.ingest(NS, [Record(id="nova", text="a nova is a sudden luminous star")])
    found = cache.lookup(first.namespace, "f" * 64)
    cache.invalidate(first.namespace)
    cache.store(
        first.namespace, found.generation, "f" * 64, [Hit(id="late", score=1.0)], "primary"
    )  # a late write
    assert cache.residue(first.namespace), "an answer of an old generation is still held"
    rig.router.drop_namespace(NS)
    assert cache.residue(first.namespace) == []


def test_an_erasure_never_resets_the_generation(cache: ResultCache) -> None:
    digest = "9" * 64
    found = cache.lookup("acme:docs:v1", digest)
    assert cache.delete_namespace("acme:docs:v1") >= 1
    cache.store("acme:docs:v1", found.generation, digest, [Hit(id="erased", score=1.0)], "primary")
    assert cache.lookup("acme:docs:v1", digest).answer is None, (
        "a search in flight cannot resurrect erased data"
    )


def test_a_purge_that_missed_redis_is_replayed_before_any_lookup() -> None:
    with throwaway_redis() as server:
        cache = ResultCache.from_url(server.url, prefix="vr:purge")
        found = cache.lookup("a:b:v", "1" * 64)
        cache.store("a:b:v", found.generation, "1" * 64, [Hit(id="gone", score=1.0)], "primary")
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            assert cache.purge("a:b:v") == 0
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        cache.lookup("other:ns:v", "2" * 64)  # any lookup replays the pending purge first
        assert cache.residue("a:b:v") == []
        cache.close()
