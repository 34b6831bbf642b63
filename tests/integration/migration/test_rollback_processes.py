"""Rollback is one flag flip, in Redis or in a local folder, obeyed by every serving process on its next search."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.services import require_redis, unique_prefix

from vectorrouter.migration import FileStateStore, MigrationState, RedisStateStore
from vectorrouter.migration.state import StateStore

SERVER = Path(__file__).with_name("serving_process.py")
PROCESSES = 3


def ask(proc: subprocess.Popen[str], key: str) -> str:
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(key + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


@pytest.fixture(params=["redis", "file"])
def shared_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[StateStore, list[str]]]:
    """A state store and the arguments that open the same one in another process."""
    store: StateStore
    if request.param == "redis":
        url, prefix = require_redis(), unique_prefix("rollback")
        store, argv = RedisStateStore(url, prefix=prefix), ["redis", url, prefix]
    else:
        store, argv = FileStateStore(tmp_path / "migrations"), ["file", str(tmp_path / "migrations")]
    yield store, argv
    store.delete("acme:docs")
    store.close()


def test_rollback_flag_reaches_every_process_on_its_next_search(
    shared_state: tuple[StateStore, list[str]],
) -> None:
    store, argv = shared_state
    store.save(
        MigrationState(
            "acme:docs", "hash-32", "hash-48", phase="rolling_out", step=3, parity={"passed": True}
        )
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(SERVER), *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    keys = [f"user-{i}" for i in range(PROCESSES)]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        assert [ask(p, k) for p, k in zip(procs, keys, strict=True)] == ["acme:docs:hash-48"] * PROCESSES
        store.set_rollback("acme:docs", True)
        # the very next search of every process, with no restart and no wait
        assert [ask(p, k) for p, k in zip(procs, keys, strict=True)] == ["acme:docs:hash-32"] * PROCESSES
        assert [ask(p, f"other-{k}") for p, k in zip(procs, keys, strict=True)] == [
            "acme:docs:hash-32"
        ] * PROCESSES
        store.set_rollback("acme:docs", False)
        assert [ask(p, k) for p, k in zip(procs, keys, strict=True)] == ["acme:docs:hash-48"] * PROCESSES
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
            p.wait(timeout=30)
            if p.stdout is not None:
                p.stdout.close()
