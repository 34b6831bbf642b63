"""Chaos: real Redis, scripted failing stores, concurrent searches. Zero searches may fail while any step can
answer; an open breaker keeps the dead store out of the path; half-open probing brings it back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from tests.support.services import require_redis, throwaway_redis, unique_prefix
from tests.unit.ladder.rig import NS, Rig, make_rig

from vectorrouter.cache import ResultCache
from vectorrouter.errors import InvalidFilter, UnsupportedFilter
from vectorrouter.ladder import CacheStep, StepPolicy
from vectorrouter.policies import FakeClock
from vectorrouter.testing.scripted import Script
from vectorrouter.types import SearchResult

WORDS = ["luminous", "galactic", "quasar", "apples", "red", "orange", "roots", "icy", "comet", "tail"]
POLICY = StepPolicy(timeout=0.25, retries=1, max_retry_after=0.01, failure_threshold=3, recovery_timeout=5.0)
FAULTS: dict[str, Callable[[Script], None]] = {
    "killed": lambda s: s.kill(),
    "hanging": lambda s: s.hang(max_hang=10),
    "rate_limited": lambda s: s.rate_limit(retry_after=30),
    "slow": lambda s: s.slow(1.0),
}


def query(i: int) -> str:
    return (
        f"{WORDS[i % 10]} {WORDS[(i * 3) % 10]} {i}"  # distinct queries: the cache must not hide the stores
    )


def run_load(
    rig: Rig, n: int, start: int = 0, threads: int = 4
) -> tuple[list[SearchResult], list[BaseException]]:
    results: list[SearchResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            res = rig.router.search(NS, query(i), k=2, mode="dense")
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(res)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(start, start + n)))
    return results, errors


@pytest.fixture
def cache() -> Iterator[ResultCache]:
    c = ResultCache(redis.Redis.from_url(require_redis()), prefix=unique_prefix("chaos"))
    yield c
    keys = c.residue()
    if keys:
        c.client.delete(*keys)
    c.close()


def chaos_rig(cache: ResultCache) -> Rig:
    clock = FakeClock()  # breaker cooldowns move by hand; timeouts are real
    return make_rig(policy=POLICY, clock=clock, extra=[CacheStep("cache", cache, clock=clock)])


@pytest.mark.parametrize("fault", list(FAULTS))
def test_primary_outage_fails_no_search_and_the_open_breaker_keeps_it_out(
    cache: ResultCache, fault: str
) -> None:
    rig = chaos_rig(cache)
    primary = rig.router.ladder.steps["primary"]
    try:
        before, errors = run_load(rig, 20)
        assert not errors
        assert {r.served_by for r in before} == {"primary"}

        FAULTS[fault](rig.primary)
        during, errors = run_load(rig, 40, start=100)
        assert errors == [], f"{len(errors)} searches failed: {errors[:1]}"
        assert all(r.hits for r in during)
        assert {r.served_by for r in during} == {"secondary"}
        assert all(r.degraded for r in during)
        if fault == "rate_limited":  # the store's Retry-After holds the step back, before the breaker trips
            assert primary.held_for() > 25
        else:
            assert primary.breaker.state == "open"

        calls = rig.primary.calls["search"]
        open_phase, errors = run_load(rig, 40, start=200)
        assert errors == []
        assert rig.primary.calls["search"] == calls, "the dead store is not called while the breaker is open"
        for r in open_phase:
            first = r.attempts[1]  # after the cache lookup
            assert (first.step, first.outcome, first.latency_ms) == ("primary", "skipped", 0.0)

        rig.primary.revive()
        rig.clock.advance(max(POLICY.recovery_timeout, 30.0))  # past the breaker cooldown and any Retry-After
        probing, errors = run_load(rig, 20, start=300)
        assert errors == []
        assert all(r.hits for r in probing)
        primary.join_probe(10)  # the probe runs in the background: no search waited for it
        assert primary.breaker.state == "closed", "half-open probing brought the primary back"
        after, errors = run_load(rig, 20, start=400)
        assert errors == []
        assert {r.served_by for r in after} == {"primary"}
    finally:
        rig.primary.revive()
        rig.close()


def test_with_every_vector_store_down_cached_then_keyword_answers_keep_coming(cache: ResultCache) -> None:
    rig = chaos_rig(cache)
    try:
        _warm, _ = run_load(rig, 10)
        rig.primary.kill()
        rig.secondary.kill()
        repeat, errors = run_load(rig, 10)  # the same queries: cached answers
        fresh, errors2 = run_load(rig, 10, start=500)  # new queries: keyword
        assert errors == errors2 == []
        assert {r.served_by for r in repeat} == {"cache"}
        assert {r.served_by for r in fresh} == {"keyword"}
        assert all(r.degraded for r in fresh)
    finally:
        rig.close()


def test_killing_and_restarting_redis_mid_run_loses_no_searches() -> None:
    with throwaway_redis() as server:
        cache = ResultCache.from_url(server.url, prefix="vr:chaos")
        rig = chaos_rig(cache)
        stop = threading.Event()
        served: list[SearchResult] = []
        errors: list[BaseException] = []

        def searcher(offset: int) -> None:
            i = 0
            while not stop.is_set() and i < 2000:
                try:
                    served.append(rig.router.search(NS, query(offset + i % 7), k=2, mode="dense"))
                except BaseException as exc:
                    errors.append(exc)
                i += 1

        workers = [threading.Thread(target=searcher, args=(n * 1000,)) for n in range(3)]
        try:
            for w in workers:
                w.start()
            for _ in range(2):
                threading.Event().wait(0.15)
                server.kill()
                threading.Event().wait(0.15)
                server.start()
                rig.clock.advance(10)  # let the cache breaker probe the restarted server
            threading.Event().wait(0.15)
        finally:
            stop.set()
            for w in workers:
                w.join(30)
            rig.close()
        assert errors == []
        assert len(served) > 50
        assert all(r.hits for r in served)
        assert {r.served_by for r in served} >= {"primary", "cache"}


def test_a_caller_error_during_an_outage_raises_at_once_without_walking(cache: ResultCache) -> None:
    rig = chaos_rig(cache)
    try:
        rig.primary.kill()
        attempts = rig.router.metrics.counter("vr_step_attempts_total")
        before = dict(attempts.values)
        with pytest.raises(InvalidFilter, match="unknown operator"):
            rig.router.search(NS, "quasar", filter={"year": {"$regex": "20.*"}})
        assert not isinstance(InvalidFilter("x"), UnsupportedFilter)
        assert attempts.values == before, "no step was tried"
        assert rig.primary.calls["search"] == 0
    finally:
        rig.close()
