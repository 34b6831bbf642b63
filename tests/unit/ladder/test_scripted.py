"""The failure-injecting wrapper that drives the chaos tests does what each fault promises."""

from __future__ import annotations

import threading

import pytest

from vectorrouter.backends import IndexSpec, NumpyBackend
from vectorrouter.errors import BackendUnavailable, RateLimited, Timeout
from vectorrouter.testing.scripted import Script, ScriptedBackend
from vectorrouter.types import Record

NS = "t:f:v"


@pytest.fixture
def store() -> ScriptedBackend:
    s = Script().wrap(NumpyBackend(IndexSpec.for_dimension(2)))
    s.upsert(NS, [Record(id="a", text="x", vector=[1.0, 0.0])])
    return s


def test_killed_store_refuses_every_verb_until_revived(store: ScriptedBackend) -> None:
    store.script.kill()
    with pytest.raises(BackendUnavailable, match="connection refused"):
        store.count(NS)
    with pytest.raises(BackendUnavailable):
        store.search(NS, [1.0, 0.0], 1)
    store.script.revive()
    assert store.count(NS) == 1
    assert store.script.faulted == {"count": 1, "search": 1}


def test_rate_limited_store_carries_retry_after(store: ScriptedBackend) -> None:
    store.script.rate_limit(retry_after=2.5)
    with pytest.raises(RateLimited) as info:
        store.search(NS, [1.0, 0.0], 1)
    assert info.value.retry_after == 2.5


def test_hung_call_completes_when_revived(store: ScriptedBackend) -> None:
    store.script.hang()
    done: list[list[str]] = []
    t = threading.Thread(target=lambda: done.append([h.id for h in store.search(NS, [1.0, 0.0], 1)]))
    t.start()
    t.join(0.05)
    assert t.is_alive(), "the call blocks while the store hangs"
    store.script.revive()
    t.join(5)
    assert done == [["a"]]


def test_a_hang_longer_than_max_hang_times_out(store: ScriptedBackend) -> None:
    store.script.hang(max_hang=0.01)
    with pytest.raises(Timeout, match="outlasted"):
        store.count(NS)


def test_slow_store_sleeps_then_answers() -> None:
    slept: list[float] = []
    store = Script(sleep=slept.append).wrap(NumpyBackend(IndexSpec.for_dimension(2)))
    store.script.slow(0.3)
    assert store.count(NS) == 0
    assert slept == [0.3]


def test_flaky_store_fails_every_nth_call(store: ScriptedBackend) -> None:
    store.script.flaky(every=3)
    outcomes = []
    for _ in range(6):
        try:
            store.count(NS)
            outcomes.append("ok")
        except BackendUnavailable:
            outcomes.append("fail")
    assert outcomes == ["ok", "ok", "fail", "ok", "ok", "fail"]


def test_faults_can_be_limited_to_some_verbs() -> None:
    store = Script(affects=("search",)).wrap(NumpyBackend(IndexSpec.for_dimension(2)))
    store.script.kill()
    store.upsert(NS, [Record(id="a", vector=[0.0, 1.0])])
    with pytest.raises(BackendUnavailable):
        store.search(NS, [0.0, 1.0], 1)
    with pytest.raises(ValueError, match="unknown verbs"):
        Script(affects=("serch",))


def test_one_script_drives_every_index_a_factory_opens() -> None:
    script = Script()
    factory = script.wrap_factory(NumpyBackend)
    a, b = factory(IndexSpec.for_dimension(2)), factory(IndexSpec.for_dimension(3))
    script.kill()
    for store in (a, b):
        with pytest.raises(BackendUnavailable):
            store.count(NS)
    assert factory.name == "numpy"  # type: ignore[attr-defined]
