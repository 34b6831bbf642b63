"""Property tests: random tenants, users, regions and operations against the embedded stores and Redis.

Each example builds a router (scripted region-tagged vector stores, an EU keyword store, a Redis result
cache, a Redis L2 embedding cache, a Redis Streams queue) and runs a random sequence of ingests, queued
ingests, dead-letterings, store outages, searches and erasures. After every step:

- no store of another region holds a record of a region's namespace (outages included);
- every search answers from its own region's steps, or fails with ResidencyViolation, and only ever
  returns its own tenant's records;
- after ``forget``: the report verifies, and nothing anywhere (stores, result cache, embedding cache,
  queue, dead-letter queue, every Redis value under the rig's prefix) names the user or holds their texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.integration.compliance.redis_rig import STORE_REGIONS, VECTOR_STORES, RedisRig, build_rig
from tests.support.services import require_redis, unique_prefix

from vectorrouter.errors import BackendUnavailable, NamespaceNotFound, ResidencyViolation
from vectorrouter.filters import In

TENANT_NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8)
USERS = ["alice", "bob", "carol"]
NS_OF = "{}:docs:h32"

#: Tenants are referred to by position (modulo how many the example drew).
tenant = st.integers(0, 3)
user = st.sampled_from(USERS)
ingest = st.tuples(st.just("ingest"), tenant, user, st.integers(1, 3))
search = st.tuples(st.just("search"), tenant, tenant)
operation = st.one_of(
    ingest,
    ingest,
    search,
    search,
    st.tuples(st.just("enqueue"), tenant, user),
    st.tuples(st.just("dead_letter")),
    st.tuples(st.just("kill"), st.sampled_from(sorted(VECTOR_STORES))),
    st.tuples(st.just("revive"), st.sampled_from(sorted(VECTOR_STORES))),
    st.tuples(st.just("forget"), user),
)


@pytest.fixture(scope="module")
def redis_url() -> str:
    return require_redis()


@dataclass
class Model:
    """What the test knows it wrote: each user's texts, each tenant's caller ids."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)
    n: int = 0

    def docs(self, tenant: str, user: str, count: int) -> list[dict[str, object]]:
        out = []
        for _ in range(count):
            self.n += 1
            text = f"{user} {tenant} note {self.n} about glaciers"
            self.texts.setdefault(user, []).append(text)
            self.ids.setdefault(tenant, set()).add(f"{tenant}-{self.n}")
            out.append({"id": f"{tenant}-{self.n}", "text": text, "metadata": {"user_id": user}})
        return out


def _region_steps(region: str) -> set[str]:
    return {name for name, held in STORE_REGIONS.items() if region in held}


def _check_no_out_of_region_data(rig: RedisRig) -> None:
    for t, region in rig.regions.items():
        ns = NS_OF.format(t)
        for step, home in VECTOR_STORES.items():
            if home != region:
                assert rig.held(step, ns) == 0, f"{ns} ({region}) leaked into {step} ({home})"
        if region != "EU":
            assert rig.keyword.count(ns) == 0, f"{ns} ({region}) leaked into keyword-eu"


def _check_search(rig: RedisRig, model: Model, t: str, other: str) -> None:
    region = rig.regions[t]
    try:
        result = rig.router.search(f"{t}:docs", f"{other} glaciers note", k=20)
    except NamespaceNotFound:
        return
    except ResidencyViolation:
        event("search refused: no compliant step left")
        down = {s for s, home in VECTOR_STORES.items() if home == region and rig.scripts[s].fault == "down"}
        assert down == {s for s, home in VECTOR_STORES.items() if home == region}
        return
    assert set(result.served_by.split("+")) <= _region_steps(region), result.served_by
    event(f"search served by {result.served_by}")
    assert {h.id for h in result.hits} <= model.ids.get(t, set()), "a hit of another tenant"
    refused = {a.step for a in result.attempts if a.detail.startswith("residency:")}
    assert refused == set(STORE_REGIONS) - _region_steps(region)


def _check_forgotten(rig: RedisRig, model: Model, who: str) -> None:
    digests = rig.compliance.ids.user_all(who)
    flt = In("user_id", tuple(digests))
    for t in rig.regions:
        ns = NS_OF.format(t)
        for step in VECTOR_STORES:
            assert sum(b.count(ns, flt) for b in rig.stores[step].values()) == 0
        assert rig.keyword.count(ns, flt) == 0
    texts = model.texts.pop(who, [])
    raw = b"\x00".join(rig.redis_values())
    assert not any(d.encode() in raw for d in digests), "the user's digest is still in Redis"
    assert not any(text.encode() in raw for text in texts), "the user's text is still in Redis"
    assert rig.embedding_keys_of(texts) == 0
    memory = rig.router.embeddings.cache.layers[0]
    assert not memory.present(_keys(texts))
    assert not [r for e in rig.queue.scan() for r in e.records if r.metadata.get("user_id") in digests]


def _keys(texts: list[str]):  # type: ignore[no-untyped-def]
    from tests.integration.compliance.redis_rig import MODELS

    from vectorrouter.embeddings.cache import cache_key

    return [cache_key(m.fingerprint("document"), "document", t) for t in texts for m in MODELS]


def _resolve(raw: tuple[object, ...], names: list[str]) -> tuple[object, ...]:
    """Tenant positions become the example's tenant names."""

    def pick(i: object) -> str:
        return names[int(i) % len(names)]  # type: ignore[call-overload]

    if raw[0] in ("ingest", "enqueue"):
        return (raw[0], pick(raw[1]), *raw[2:])
    if raw[0] == "search":
        return (raw[0], pick(raw[1]), pick(raw[2]))
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regions=st.dictionaries(TENANT_NAMES, st.sampled_from(["EU", "US"]), min_size=2, max_size=4),
    ops=st.lists(operation, min_size=5, max_size=25),
)
def test_random_operations_never_cross_tenants_leave_regions_or_leave_residue(
    redis_url: str, regions: dict[str, str], ops: list[tuple[object, ...]]
) -> None:
    rig = build_rig(redis_url, unique_prefix("prop"), regions)
    model = Model()
    names = sorted(regions)
    try:
        for raw in ops:
            op = _resolve(raw, names)
            kind = op[0]
            if kind == "ingest":
                t, who, count = op[1:]
                try:
                    rig.router.ingest(f"{t}:docs", model.docs(t, who, count))  # type: ignore[arg-type]
                except BackendUnavailable:
                    # a store of the region is down: written to the others, reported, never elsewhere
                    event("ingest with a store of the region down")
            elif kind == "enqueue":
                t, who = op[1:]
                rig.router.enqueue(f"{t}:docs", model.docs(t, who, 2))  # type: ignore[arg-type]
            elif kind == "dead_letter":
                for delivery in rig.queue.claim("prop", max_events=1):
                    rig.queue.dead_letter(delivery, "failed for good")
            elif kind == "kill":
                rig.scripts[op[1]].kill()  # type: ignore[index]
            elif kind == "revive":
                rig.scripts[op[1]].revive()  # type: ignore[index]
            elif kind == "search":
                _check_search(rig, model, op[1], op[2])  # type: ignore[arg-type]
            elif kind == "forget":
                for script in rig.scripts.values():
                    script.revive()  # verification needs every store reachable
                report = rig.router.forget(op[1])  # type: ignore[arg-type]
                assert report.ok, report.summary()
                event(f"forget erased {'something' if report.deleted else 'nothing'}")
                _check_forgotten(rig, model, op[1])  # type: ignore[arg-type]
            _check_no_out_of_region_data(rig)
    finally:
        rig.close()


def test_the_property_rig_sees_residue_when_erasure_is_skipped(redis_url: str) -> None:
    """The residue checks above can fail: without forget, they find the user's data everywhere."""
    rig = build_rig(redis_url, unique_prefix("prop-neg"), {"acme": "EU"})
    model = Model()
    try:
        rig.router.ingest("acme:docs", model.docs("acme", "alice", 2))
        rig.router.search("acme:docs", "alice glaciers", k=5)
        rig.router.enqueue("acme:docs", model.docs("acme", "alice", 1))
        with pytest.raises(AssertionError):
            _check_forgotten(rig, Model(texts=dict(model.texts)), "alice")
        rig.router.ingest("acme:docs", model.docs("acme", "bob", 1))
        rig.stores["primary-us"]["numpy"] = rig.stores["primary-eu"][next(iter(rig.stores["primary-eu"]))]
        with pytest.raises(AssertionError, match="leaked"):
            _check_no_out_of_region_data(rig)
    finally:
        rig.close()
