"""forget() on real Redis: the result cache, the L2 embedding cache, the queue and the dead-letter queue."""

import contextlib
from collections.abc import Iterator

import pytest
import redis
from tests.integration.compliance.redis_rig import RedisRig, build_rig
from tests.support.services import require_redis, throwaway_redis, unique_prefix

ALICE = [f"alice writes about glacier {i} near the fjord" for i in range(4)]
BOB = [f"bob writes about glacier {i} near the coast" for i in range(3)]


@pytest.fixture
def rig() -> Iterator[RedisRig]:
    r = build_rig(require_redis(), unique_prefix("forget"), {"acme": "EU", "globex": "US"})
    yield r
    r.close()


def _docs(user: str, texts: list[str], tag: str = "") -> list[dict[str, object]]:
    return [{"id": f"{user}{tag}-{i}", "text": t, "metadata": {"user_id": user}} for i, t in enumerate(texts)]


def _fill(rig: RedisRig) -> None:
    for ns in ("acme:docs", "globex:docs"):
        rig.router.ingest(ns, _docs("alice", ALICE) + _docs("bob", BOB))
        for q in ("glacier fjord", "glacier coast", "alice glacier"):
            rig.router.search(ns, q, k=5)  # answers (with alice's hits) land in the result cache
    # queued but not yet written: one event mixing both users, one with alice only
    rig.router.enqueue(
        "acme:docs", _docs("alice", ["alice queued a note"], "-q") + _docs("bob", ["bob queued"], "-q")
    )
    rig.router.enqueue("globex:docs", _docs("alice", ["alice queued another"], "-q2"))
    # and one mixed event that failed for good
    rig.router.enqueue(
        "acme:docs", _docs("alice", ["alice dead letter"], "-d") + _docs("bob", ["bob dead"], "-d")
    )
    deliveries = rig.queue.claim("test", max_events=10)
    dead = next(d for d in deliveries if any("dead" in (r.text or "") for r in d.event.records))
    rig.queue.dead_letter(dead, "store rejected it")
    for d in deliveries:
        if d is not dead:
            rig.queue.retry(d, "not now", 0.0)


def test_forget_erases_caches_queue_and_dead_letters_and_verifies_each(rig: RedisRig) -> None:
    _fill(rig)
    digests = set(rig.compliance.ids.user_all("alice"))
    raw = b"".join(rig.redis_values())
    assert any(d.encode() in raw for d in digests)  # the cache and the queue hold alice's data
    assert rig.embedding_keys_of(ALICE) > 0

    report = rig.router.forget("alice")
    assert report.ok, report.summary()
    places = {p.place: p for p in report.places}
    assert places["result-cache:cache"].deleted > 0
    assert places["ingest-queue:redis"].deleted == 2
    assert places["dead-letter:redis"].deleted == 1
    # 4 texts cached in L1 and L2 under h32 (the namespaces' model); every entry found by key or text digest
    assert places["embedding-cache"].deleted == 8
    assert all(p.residue == 0 for p in report.places)

    # independent of the places' own checks: nothing under the prefix names alice or holds her texts
    raw = b"".join(rig.redis_values())
    assert not any(d.encode() in raw for d in digests)
    assert not any(t.encode() in raw for t in [*ALICE, "alice queued", "alice dead letter"])
    assert rig.embedding_keys_of(ALICE) == 0
    # bob's queued and dead-lettered records survive (the mixed events were trimmed, not dropped)
    queued = [r.text for e in rig.queue.scan() for r in e.records]
    assert sorted(queued) == ["bob dead", "bob queued"]
    assert rig.embedding_keys_of(BOB) > 0
    assert list(rig.compliance.audit.entries())[-1].action == "erasure.verified"


def test_searches_after_forget_never_serve_the_user_from_the_cache(rig: RedisRig) -> None:
    _fill(rig)
    rig.router.forget("alice")
    digests = set(rig.compliance.ids.user_all("alice"))
    for ns in ("acme:docs", "globex:docs"):
        for q in ("glacier fjord", "glacier coast", "alice glacier"):
            hits = rig.router.search(ns, q, k=10).hits
            assert hits
            assert not {h.metadata.get("user_id") for h in hits} & digests


def test_with_redis_down_the_cache_places_are_unverified_and_the_stores_still_erased() -> None:
    with throwaway_redis() as server:
        rig = build_rig(server.url, unique_prefix("down"), {"acme": "EU"})
        try:
            rig.router.ingest("acme:docs", _docs("alice", ALICE) + _docs("bob", BOB))
            rig.router.search("acme:docs", "glacier fjord", k=5)
            server.kill()
            report = rig.router.forget("alice")
            assert not report.ok
            unreachable = {p.place for p in report.places if p.error}
            assert {"result-cache:cache", "ingest-queue:redis", "embedding-cache"} <= unreachable
            assert "UNREACHABLE" in report.summary()
            assert rig.held("primary-eu", "acme:docs:h32") == len(BOB)
            last = list(rig.compliance.audit.entries())[-1]
            assert last.action == "erasure.residue"
            assert "result-cache:cache" in last.details["residue_places"]
            # the index is kept: once Redis is back, forget finishes the job
            server.start()
            assert rig.router.forget("alice").ok
        finally:
            rig.router.close()
            rig.compliance.close()
            with contextlib.suppress(redis.RedisError):
                rig.client.close()
