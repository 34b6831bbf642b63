"""Real servers for the embedding cache: the shared Redis/PostgreSQL at REDIS_URL / DATABASE_URL, and
throwaway redis-server instances for tests that kill one. With CI=true a missing server fails loudly."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(what: str, why: object) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI but unavailable: {why}")
    pytest.skip(f"{what} unavailable ({why}); set {'REDIS_URL' if 'edis' in what else 'DATABASE_URL'}")


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture
def postgres_dsn() -> str:
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect(DATABASE_URL, connect_timeout=2).close()
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    return DATABASE_URL


@pytest.fixture
def unique() -> str:
    """A prefix/schema name no parallel run shares."""
    return f"vrtest_{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ThrowawayRedis:
    """A redis-server of our own on a free port, so a test can kill it without touching the shared one."""

    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server binary", "not on PATH")
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(100):
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    pytest.importorskip("redis")
    server = ThrowawayRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
