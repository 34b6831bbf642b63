"""Rollback is one flag flip in Redis, obeyed by every serving process on its very next search."""

import subprocess
import sys
from pathlib import Path

from tests.support.services import require_redis, unique_prefix

from vectorrouter.migration import MigrationState, RedisStateStore

SERVER = Path(__file__).with_name("serving_process.py")


def ask(proc: subprocess.Popen[str], key: str) -> str:
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(key + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def test_rollback_flag_reaches_every_process_on_its_next_search() -> None:
    url, prefix = require_redis(), unique_prefix("rollback")
    store = RedisStateStore(url, prefix=prefix)
    store.save(
        MigrationState(
            "acme:docs", "hash-32", "hash-48", phase="rolling_out", step=3, parity={"passed": True}
        )
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(SERVER), url, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        assert [ask(p, f"user-{i}") for i, p in enumerate(procs)] == ["acme:docs:hash-48"] * 3
        store.set_rollback("acme:docs", True)
        assert [ask(p, f"user-{i}") for i, p in enumerate(procs)] == ["acme:docs:hash-32"] * 3
        store.set_rollback("acme:docs", False)
        assert [ask(p, f"user-{i}") for i, p in enumerate(procs)] == ["acme:docs:hash-48"] * 3
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
            p.wait(timeout=30)
            if p.stdout is not None:
                p.stdout.close()
        store.delete("acme:docs")
        store.close()
