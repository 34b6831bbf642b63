"""The migration state contract on a local folder and on a real Redis server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.services import require_redis, throwaway_redis, unique_prefix

from vectorrouter.errors import BackendUnavailable
from vectorrouter.migration import (
    FileStateStore,
    MigrationResolver,
    MigrationState,
    RedisStateStore,
    Schedule,
)
from vectorrouter.migration.state import StateStore


class StateStoreContract:
    @pytest.fixture
    def store(self) -> Iterator[StateStore]:  # pragma: no cover - subclasses override
        raise NotImplementedError

    @pytest.fixture
    def twin(self, store: StateStore) -> StateStore:  # pragma: no cover - subclasses override
        """A second handle on the same storage, as another process would open it."""
        raise NotImplementedError

    def test_state_round_trips_with_schedule_checkpoint_and_parity(
        self, store: StateStore, twin: StateStore
    ) -> None:
        st = MigrationState(
            "acme:docs", "minilm-l6", "lsa-768", schedule=Schedule((10, 100), min_dwell_seconds=5)
        )
        st.checkpoint.embedded = 42
        st.checkpoint.failed_ids = ["d1"]
        st.parity = {"passed": True, "source_count": 42}
        st.step = 1
        store.save(st)
        loaded = twin.load("acme:docs")
        assert loaded is not None
        assert loaded.schedule.steps == (10.0, 100.0)
        assert loaded.checkpoint.embedded == 42
        assert loaded.checkpoint.failed_ids == ["d1"]
        assert loaded.parity_passed
        assert loaded.split().new == 100.0
        assert loaded.revision == 1
        assert twin.list() == ["acme:docs"]
        assert twin.load("acme:other") is None

    def test_rollback_flag_flipped_in_one_handle_is_seen_by_the_other(
        self, store: StateStore, twin: StateStore
    ) -> None:
        assert twin.snapshot("acme:docs") == (None, False)
        store.save(MigrationState("acme:docs", "v1", "v2"))
        assert twin.snapshot("acme:docs")[1] is False
        store.set_rollback("acme:docs", True)
        assert twin.rolled_back("acme:docs")
        assert twin.snapshot("acme:docs")[1] is True
        store.set_rollback("acme:docs", False)
        assert not twin.rolled_back("acme:docs")
        assert twin.snapshot("acme:docs")[1] is False

    def test_failed_dual_writes_accumulate_and_clear(self, store: StateStore, twin: StateStore) -> None:
        store.add_failures("acme:docs", ["a", "b"])
        twin.add_failures("acme:docs", ["b", "c"])
        assert store.failures("acme:docs") == {"a", "b", "c"}
        twin.clear_failures("acme:docs", ["a", "b"])
        assert store.failures("acme:docs") == {"c"}

    def test_quality_summaries_are_kept_per_process(self, store: StateStore, twin: StateStore) -> None:
        store.put_quality("acme:docs", "host-1", {"new": {"searches": 3}})
        twin.put_quality("acme:docs", "host-2", {"new": {"searches": 4}})
        assert store.quality("acme:docs") == {
            "host-1": {"new": {"searches": 3}},
            "host-2": {"new": {"searches": 4}},
        }

    def test_delete_removes_state_flag_and_failures(self, store: StateStore, twin: StateStore) -> None:
        store.save(MigrationState("acme:docs", "v1", "v2"))
        store.set_rollback("acme:docs", True)
        store.add_failures("acme:docs", ["x"])
        store.delete("acme:docs")
        assert twin.snapshot("acme:docs") == (None, False)
        assert twin.failures("acme:docs") == set()


class TestFileStateStore(StateStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[StateStore]:
        return FileStateStore(tmp_path)

    @pytest.fixture
    def twin(self, tmp_path: Path) -> StateStore:
        return FileStateStore(tmp_path)


def test_a_file_store_reads_no_flag_for_a_name_without_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every search on a logical name takes a snapshot; with no migration only the state file is looked for
    store = FileStateStore(tmp_path)
    store.set_rollback(
        "acme:docs", True
    )  # a flag alone routes nothing: there is no old version to go back to
    looked: list[str] = []
    real_stat = os.stat

    def stat(path: str, *args: object, **kwargs: object) -> os.stat_result:
        looked.append(str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    assert store.snapshot("acme:docs") == (None, False)
    assert looked == [str(tmp_path / "acme+docs.json")]
    assert store.rolled_back("acme:docs")


def test_a_file_store_keeps_a_bounded_number_of_name_stems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vectorrouter.migration.state._MAX_STEMS", 3)
    store = FileStateStore(tmp_path)
    store.save(MigrationState("t0:docs", "v1", "v2"))
    store.set_rollback("t0:docs", True)
    for i in range(1, 10):
        assert store.snapshot(f"t{i}:docs") == (None, False)
        assert len(store._stems) <= 3
    state, flag = store.snapshot("t0:docs")  # its stem was dropped on the way and is found again
    assert state is not None
    assert state.target == "v2"
    assert flag is True


class TestRedisStateStore(StateStoreContract):
    @pytest.fixture
    def prefix(self) -> str:
        return unique_prefix("migration")

    @pytest.fixture
    def store(self, prefix: str) -> Iterator[StateStore]:
        s = RedisStateStore(require_redis(), prefix=prefix)
        yield s
        s.delete("acme:docs")
        s.close()

    @pytest.fixture
    def twin(self, prefix: str) -> Iterator[StateStore]:
        s = RedisStateStore(require_redis(), prefix=prefix)
        yield s
        s.close()


def test_a_dead_redis_is_a_backend_error_and_the_resolver_serves_the_active_version() -> None:
    with throwaway_redis() as server:
        store = RedisStateStore(server.url, prefix=unique_prefix("dead"), socket_timeout=0.2)
        st = MigrationState("acme:docs", "v1", "v2", phase="rolling_out", step=3, parity={"passed": True})
        store.save(st)
        resolver = MigrationResolver(store)
        route = resolver.route("acme:docs", "u1")
        assert route is not None
        assert route.arm == "new"
        server.kill()
        with pytest.raises(BackendUnavailable):
            store.rolled_back("acme:docs")
        assert resolver.route("acme:docs", "u1") is None  # the catalog's active (old) version
        assert resolver.store_errors == 1
