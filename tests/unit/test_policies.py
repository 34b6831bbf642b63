import random
import threading
import time

import pytest

from vectorrouter.errors import (
    BackendUnavailable,
    CircuitOpen,
    InvalidRecord,
    RateLimited,
)
from vectorrouter.errors import Timeout as TimeoutError_
from vectorrouter.policies import (
    Bulkhead,
    CircuitBreaker,
    FakeClock,
    RateLimit,
    Retry,
    Timeout,
    TokenBucket,
    backoff_delay,
)


class Script:
    """A callable that raises the scripted errors in order, then returns 'ok'."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retry_recovers_from_transient_backend_errors() -> None:
    clock = FakeClock()
    fn = Script(BackendUnavailable("a"), BackendUnavailable("b"))
    assert Retry(attempts=3, clock=clock, rng=random.Random(1)).call(fn) == "ok"
    assert fn.calls == 3
    assert len(clock.sleeps) == 2


def test_retry_gives_up_after_attempts_and_reraises_the_last_error() -> None:
    fn = Script(*(BackendUnavailable(str(i)) for i in range(5)))
    with pytest.raises(BackendUnavailable, match="2"):
        Retry(attempts=3, clock=FakeClock()).call(fn)
    assert fn.calls == 3


def test_retry_never_retries_caller_errors() -> None:
    fn = Script(InvalidRecord("bad"))
    with pytest.raises(InvalidRecord):
        Retry(attempts=5, clock=FakeClock()).call(fn)
    assert fn.calls == 1


def test_retry_waits_at_least_retry_after() -> None:
    clock = FakeClock()
    fn = Script(RateLimited("429", retry_after=7.5))
    Retry(attempts=2, clock=clock, maximum=0.1).call(fn)
    assert clock.sleeps == [7.5]


def test_retry_after_beyond_the_cap_propagates_at_once() -> None:
    clock = FakeClock()
    fn = Script(RateLimited("429", retry_after=3600))
    with pytest.raises(RateLimited):
        Retry(attempts=3, clock=clock, max_retry_after=30).call(fn)
    assert fn.calls == 1
    assert clock.sleeps == []


def test_retry_does_not_hammer_an_open_breaker() -> None:
    fn = Script(CircuitOpen("open"))
    with pytest.raises(CircuitOpen):
        Retry(attempts=3, clock=FakeClock()).call(fn)
    assert fn.calls == 1


def test_backoff_is_jittered_and_capped() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(a, initial=0.1, maximum=1.0, rng=rng) for a in range(1, 30)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 20, "full jitter spreads retries out"
    assert max(backoff_delay(1, initial=0.1, maximum=1.0, rng=rng) for _ in range(200)) <= 0.1


def test_breaker_opens_after_threshold_and_fails_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=10, clock=clock)
    dead = Script(*(BackendUnavailable("down") for _ in range(10)))
    for _ in range(3):
        with pytest.raises(BackendUnavailable):
            breaker.call(dead)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        breaker.call(dead)
    assert dead.calls == 3, "an open breaker must not call the step"
    assert breaker.opened_count == 1


def test_open_breaker_skips_until_cooldown_then_half_open_probe_closes_it() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    with pytest.raises(BackendUnavailable):
        breaker.call(Script(BackendUnavailable("down")))
    clock.advance(4.9)
    assert breaker.state == "open"
    assert breaker.retry_in() == pytest.approx(0.1)
    clock.advance(0.1)
    assert breaker.state == "half_open"
    assert breaker.call(Script()) == "ok"
    assert breaker.state == "closed"


def test_failed_half_open_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=5, clock=clock)
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            breaker.call(Script(BackendUnavailable("down")))
    clock.advance(5)
    with pytest.raises(BackendUnavailable):
        breaker.call(Script(BackendUnavailable("still down")))
    assert breaker.state == "open"
    assert breaker.retry_in() == pytest.approx(5)


def test_half_open_admits_only_the_configured_number_of_probes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, half_open_max_calls=1, clock=clock)
    with pytest.raises(BackendUnavailable):
        breaker.call(Script(BackendUnavailable("down")))
    clock.advance(1)
    inside = threading.Event()
    release = threading.Event()

    def slow_probe() -> str:
        inside.set()
        release.wait(5)
        return "ok"

    t = threading.Thread(target=breaker.call, args=(slow_probe,))
    t.start()
    inside.wait(5)
    with pytest.raises(CircuitOpen, match="probe already in flight"):
        breaker.call(Script())
    release.set()
    t.join()
    assert breaker.state == "closed"


def test_a_success_resets_the_failure_count_and_only_a_closed_breaker_admits_without_the_lock() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, recovery_timeout=5, clock=clock)
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            breaker.call(Script(BackendUnavailable("blip")))
    assert breaker.admits_freely()
    breaker.call(Script())  # resets the two failures: two more must not open it
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            breaker.call(Script(BackendUnavailable("blip")))
    assert breaker.state == "closed"
    assert breaker.admits_freely()
    with pytest.raises(BackendUnavailable):
        breaker.call(Script(BackendUnavailable("down")))
    assert breaker.state == "open"
    assert not breaker.admits_freely()
    clock.advance(5)
    assert breaker.state == "half_open"
    assert not breaker.admits_freely()
    breaker.call(Script())
    assert breaker.admits_freely()
    breaker.force_open("drill")
    assert not breaker.admits_freely()
    with pytest.raises(CircuitOpen):
        breaker.call(Script())


def test_caller_errors_do_not_trip_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=FakeClock())
    for _ in range(5):
        with pytest.raises(InvalidRecord):
            breaker.call(Script(InvalidRecord("bad filter")))
    assert breaker.state == "closed"


def test_breaker_reports_state_changes() -> None:
    changes = []
    clock = FakeClock()
    breaker = CircuitBreaker(
        failure_threshold=1,
        recovery_timeout=1,
        clock=clock,
        name="primary",
        on_change=lambda *c: changes.append(c),
    )
    with pytest.raises(BackendUnavailable):
        breaker.call(Script(BackendUnavailable("x")))
    clock.advance(1)
    breaker.call(Script())
    assert changes == [
        ("primary", "closed", "open"),
        ("primary", "open", "half_open"),
        ("primary", "half_open", "closed"),
    ]


def test_timeout_raises_our_timeout_and_does_not_wait_for_a_hung_call() -> None:
    release = threading.Event()
    policy = Timeout(0.05)
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match="50 ms"):
        policy.call(lambda: release.wait(10))
    waited = time.monotonic() - started
    release.set()
    assert waited < 5, "the caller must be released at the deadline, not when the call ends"


def test_timeout_passes_results_and_errors_through() -> None:
    policy = Timeout(5)
    assert policy.call(lambda: 3) == 3
    with pytest.raises(InvalidRecord):
        policy.call(Script(InvalidRecord("bad")))


def test_bulkhead_refuses_beyond_capacity_when_max_wait_is_finite() -> None:
    bulkhead = Bulkhead(1, max_wait=0.01, name="primary")
    inside = threading.Event()
    release = threading.Event()

    def hold() -> str:
        inside.set()
        release.wait(5)
        return "held"

    t = threading.Thread(target=bulkhead.call, args=(hold,))
    t.start()
    inside.wait(5)
    with pytest.raises(BackendUnavailable, match="bulkhead full"):
        bulkhead.call(lambda: "second")
    release.set()
    t.join()
    assert bulkhead.call(lambda: "after") == "after"
    assert bulkhead.peak == 1


def test_bulkhead_waiter_is_admitted_when_the_holder_leaves_even_by_raising() -> None:
    bulkhead = Bulkhead(1)  # max_wait=None: wait as long as it takes
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(5)
        raise BackendUnavailable("store fell over", backend="primary")

    def held() -> None:
        with pytest.raises(BackendUnavailable):
            bulkhead.call(hold)

    holder = threading.Thread(target=held)
    holder.start()
    assert inside.wait(5)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(bulkhead.call(lambda: "admitted")))
    waiter.start()
    waiter.join(0.05)
    assert waiter.is_alive(), "the waiter must wait while the only slot is held"
    assert not got
    release.set()
    waiter.join(5)
    holder.join(5)
    assert got == ["admitted"]
    assert bulkhead.in_flight == 0
    assert bulkhead.peak == 1


def test_bulkhead_try_enter_takes_free_slots_only_and_leave_wakes_a_waiter() -> None:
    bulkhead = Bulkhead(2)
    assert bulkhead.try_enter()
    assert bulkhead.try_enter()
    assert not bulkhead.try_enter(), "no slot is free: the caller must take call(), which waits"
    assert (bulkhead.in_flight, bulkhead.peak) == (2, 2)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(bulkhead.call(lambda: "admitted")))
    waiter.start()
    waiter.join(0.05)
    assert waiter.is_alive()
    assert not got
    bulkhead.leave()
    waiter.join(5)
    assert got == ["admitted"]
    bulkhead.leave()
    assert bulkhead.in_flight == 0


def test_bulkhead_bounds_concurrency_under_load() -> None:
    bulkhead = Bulkhead(3)
    barrier_hits = []

    def work() -> None:
        barrier_hits.append(bulkhead.in_flight)
        time.sleep(0.005)

    threads = [threading.Thread(target=bulkhead.call, args=(work,)) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bulkhead.peak <= 3
    assert max(barrier_hits) <= 3


def test_token_bucket_allows_the_burst_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, capacity=5, clock=clock)
    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == [0.0] * 5
    bucket.acquire()
    assert clock.sleeps[-1] == pytest.approx(0.1)
    bucket.acquire()
    assert clock.sleeps[-1] == pytest.approx(0.1)


def test_token_bucket_long_run_rate_never_exceeds_the_quota() -> None:
    clock = FakeClock()
    bucket = TokenBucket.per_minute(600, burst=10, clock=clock)
    for _ in range(1000):
        bucket.acquire()
    # 10 free in the burst, the other 990 at 10/s
    assert clock.now() == pytest.approx(99.0, rel=1e-6)


def test_token_bucket_refuses_a_request_larger_than_its_capacity() -> None:
    bucket = TokenBucket.per_minute(1000, clock=FakeClock(), name="tokens/min")
    with pytest.raises(RateLimited, match="split the request"):
        bucket.acquire(5000)


def test_token_bucket_max_wait_refuses_and_returns_the_reservation() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=1, capacity=1, clock=clock)
    bucket.acquire()
    with pytest.raises(RateLimited) as info:
        bucket.acquire(max_wait=0.5)
    assert info.value.retry_after == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.available == pytest.approx(1.0)


def test_policies_compose_outer_to_inner() -> None:
    order = []

    class Tag(RateLimit):
        def __init__(self, name: str) -> None:
            self.name = name

        def call(self, fn):  # type: ignore[no-untyped-def]
            order.append(self.name)
            return fn()

    chain = Tag("outer") | Tag("middle") | Tag("inner")
    assert chain.call(lambda: order.append("fn") or "done") == "done"
    assert order == ["outer", "middle", "inner", "fn"]


def test_retry_inside_breaker_counts_one_failure_per_exhausted_call() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)
    guarded = breaker | Retry(attempts=3, clock=clock)
    fn = Script(*(BackendUnavailable("x") for _ in range(3)))
    with pytest.raises(BackendUnavailable):
        guarded.call(fn)
    assert fn.calls == 3
    assert breaker.state == "closed", "three retried attempts are one failed call to the breaker"


def test_a_forced_open_breaker_refuses_until_released_then_probes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=5, recovery_timeout=30, clock=clock)
    breaker.force_open("maintenance")
    fn = Script()
    with pytest.raises(CircuitOpen, match="taken out of rotation: maintenance"):
        breaker.call(fn)
    clock.advance(3600)
    assert breaker.state == "open", "a forced breaker does not time out by itself"
    assert breaker.retry_in() == float("inf")
    assert fn.calls == 0
    breaker.release()
    assert breaker.state == "half_open", "a released step is probed before it takes traffic again"
    assert breaker.call(fn) == "ok"
    assert breaker.state == "closed"
