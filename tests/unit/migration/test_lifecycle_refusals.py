"""What the migration procedure refuses, and that a refusal writes nothing.

A rollback needs a migration under way (none recorded, or a finished one, has no old version to serve); a
rollback flag holds the rollout (advance refuses) and does not outlive its migration (a new start clears it);
finishing twice, a negative budget or quota and a step that is not a number are refused with what to do.
"""

import math
from pathlib import Path

import pytest

from vectorrouter import Record, Router
from vectorrouter.errors import ConfigurationError
from vectorrouter.migration import (
    FileStateStore,
    Migration,
    MigrationResolver,
    Quota,
    Schedule,
)

from .conftest import NEW, OLD


def files(store: FileStateStore) -> dict[str, bytes]:
    """Every file of the store, by name: a refused operation must leave this exactly as it was."""
    return {p.name: p.read_bytes() for p in sorted(Path(store.directory).iterdir())}


def finished(router: Router, store: FileStateStore, *, drop_old: bool = False) -> Migration:
    m = Migration(router, store, "acme:docs")
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    for _ in range(4):
        m.advance()
    m.finish(drop_old=drop_old)
    return m


@pytest.mark.parametrize("drop_old", [True, False])
def test_rollback_after_finish_is_refused_and_searches_stay_on_the_new_version(
    router: Router, store: FileStateStore, resolver: MigrationResolver, drop_old: bool
) -> None:
    m = finished(router, store, drop_old=drop_old)
    before = files(store)
    with pytest.raises(ConfigurationError, match="is finished") as err:
        m.rollback()
    assert f"migrate start acme:docs --to {OLD.version}" in str(err.value)  # the way back that exists
    assert ("was dropped" if drop_old else "no longer receives writes") in str(err.value)
    assert files(store) == before
    assert not store.rolled_back("acme:docs")
    result = router.search("acme:docs", "violins", k=3, routing_key="u1")
    assert result.namespace == "acme:docs:hash-48"
    assert result.hits
    assert not result.degraded


def test_a_flag_left_on_a_finished_migration_does_not_route_to_the_retired_version(
    router: Router, store: FileStateStore, resolver: MigrationResolver
) -> None:
    finished(router, store, drop_old=True)
    store.set_rollback("acme:docs", True)  # as an earlier release let `rollback` write after `finish`
    result = router.search("acme:docs", "violins", k=3, routing_key="u1")
    assert result.namespace == "acme:docs:hash-48"
    assert result.hits
    # and lifting it is always allowed, so the stale flag can be removed
    Migration(router, store, "acme:docs").rollback(on=False)
    assert not store.rolled_back("acme:docs")


def test_rollback_with_no_migration_is_refused_and_writes_nothing(
    router: Router, store: FileStateStore
) -> None:
    m = Migration(router, store, "acme:docs")
    with pytest.raises(ConfigurationError, match="no migration of acme:docs is running"):
        m.rollback()
    assert files(store) == {}
    # so a later migration starts with its rollout free to move
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    assert not store.rolled_back("acme:docs")
    assert m.advance().split().new == 5.0


def test_a_new_migration_clears_a_flag_left_by_an_earlier_one(router: Router, store: FileStateStore) -> None:
    store.set_rollback("acme:docs", True)  # a stale flag: no migration is recorded
    m = Migration(router, store, "acme:docs")
    with pytest.raises(ConfigurationError, match="batch_size"):
        m.start(NEW.version, batch_size=0)  # a refused start leaves even the stale flag alone
    assert store.rolled_back("acme:docs")
    assert store.load("acme:docs") is None
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    assert not store.rolled_back("acme:docs")
    assert m.state().history[-3]["action"] == "rollback lifted"  # start, lifted, backfill, parity
    m.advance()
    # while a migration is under way its flag is kept: a resumed start does not clear it
    m.rollback()
    m.start(NEW.version)
    assert store.rolled_back("acme:docs")


def test_advance_refuses_while_rolled_back_even_with_force(router: Router, store: FileStateStore) -> None:
    m = Migration(router, store, "acme:docs")
    m.start(NEW.version, schedule=Schedule(min_dwell_seconds=0))
    m.advance()
    m.rollback()
    before = files(store)
    for force in (False, True):
        with pytest.raises(ConfigurationError, match="rolled back") as err:
            m.advance(force=force)
        assert "vectorrouter migrate rollback acme:docs --lift" in str(err.value)
    assert files(store) == before
    m.rollback(on=False)
    assert m.advance().split().new == 25.0


def test_a_second_target_is_refused_with_a_fix_that_exists(router: Router, store: FileStateStore) -> None:
    m = Migration(router, store, "acme:docs")
    m.start(NEW.version)
    before = files(store)
    with pytest.raises(ConfigurationError, match="already migrating to 'hash-48'") as err:
        m.start(OLD.version)
    text = str(err.value)
    assert "abort" not in text  # there is no abort command
    assert "--to hash-48" in text
    assert "migrate advance / finish acme:docs" in text
    assert "migrate rollback acme:docs" in text
    assert files(store) == before


@pytest.mark.parametrize("budget", [-1.0, -0.01, math.nan, math.inf, True])
def test_a_budget_that_is_not_an_amount_is_refused_before_anything_is_written(
    router: Router, store: FileStateStore, budget: float
) -> None:
    m = Migration(router, store, "acme:docs")
    with pytest.raises(ConfigurationError, match="budget"):
        m.start(NEW.version, budget=budget)
    assert files(store) == {}
    m.start(NEW.version, budget=0.0)  # a zero cap is allowed: free (local, cached) batches still run
    before = files(store)
    with pytest.raises(ConfigurationError, match="budget"):
        m.start(NEW.version, budget=budget)  # resuming with a bad cap is refused too
    assert files(store) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tokens_per_minute": -5}, "tokens_per_minute"),
        ({"tokens_per_minute": 0}, "tokens_per_minute"),
        ({"requests_per_minute": -1.0}, "requests_per_minute"),
        ({"requests_per_minute": math.nan}, "requests_per_minute"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_a_quota_below_zero_is_refused(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        Quota(**kwargs)  # type: ignore[arg-type]


def test_plan_times_only_a_positive_quota(router: Router, store: FileStateStore) -> None:
    plan = Migration(router, store, "acme:docs").plan(NEW.version, quota=Quota(tokens_per_minute=60))
    assert plan.seconds_at_quota is not None
    assert plan.seconds_at_quota > 0


def test_finishing_twice_says_it_is_finished(router: Router, store: FileStateStore) -> None:
    m = finished(router, store, drop_old=True)
    before = files(store)
    with pytest.raises(ConfigurationError, match="already finished"):
        m.finish(drop_old=True)
    with pytest.raises(ConfigurationError, match="is finished; there is no rollout to advance"):
        m.advance(force=True)
    assert files(store) == before
    assert router.resolve("acme:docs").model_version == NEW.version


@pytest.mark.parametrize("steps", [[None], [5, None], ["x"], [5, True], "5,x", None])
def test_a_step_that_is_not_a_number_is_a_configuration_error(steps: object) -> None:
    with pytest.raises(ConfigurationError, match="rollout.steps"):
        Schedule.parse(steps)  # type: ignore[arg-type]


def test_schedule_parse_still_reads_text_and_numbers() -> None:
    assert Schedule.parse("5, 25 → 100").steps == (5.0, 25.0, 100.0)
    assert Schedule.parse([5, "50", 100.0]).steps == (5.0, 50.0, 100.0)


def test_migrating_back_to_a_kept_version_recopies_what_changed_since(
    router: Router, store: FileStateStore
) -> None:
    finished(router, store)  # the old version is kept, and receives no more writes
    router.ingest("acme:docs", [Record(id="d001", text="changed after the finish", metadata={"n": 1})])
    back = Migration(router, store, "acme:docs")
    report = back.start(OLD.version)
    assert report.parity is not None
    assert report.parity.passed, report.parity
    assert report.embedded == 1  # only the changed record, the rest was still current
    assert router.get("acme:docs:hash-32", ["d001"])[0].text == "changed after the finish"
