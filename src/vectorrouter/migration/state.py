"""Migration state and where it lives: a local folder of JSON files, or Redis when several hosts serve.

The state of one migration (phase, schedule step, parity result, backfill checkpoint, spend) is one JSON
document per logical namespace. The rollback flag is a separate key, so flipping it is one atomic write that
never races with a state update, and every process reads it on every search.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from vectorrouter.errors import BackendUnavailable, ConfigurationError, Timeout
from vectorrouter.migration.rollout import Schedule, Split
from vectorrouter.types import parse_logical

__all__ = [
    "PHASES",
    "Checkpoint",
    "FileStateStore",
    "MigrationState",
    "Phase",
    "RedisStateStore",
    "StateStore",
    "map_redis_error",
]

Phase = Literal["planned", "backfilling", "paused", "backfilled", "rolling_out", "finished", "aborted"]
PHASES: tuple[Phase, ...] = (
    "planned",
    "backfilling",
    "paused",
    "backfilled",
    "rolling_out",
    "finished",
    "aborted",
)


@dataclass(slots=True)
class Checkpoint:
    """Backfill progress, saved after every batch so a crashed backfill resumes where it stopped."""

    total: int = 0
    processed: int = 0
    embedded: int = 0
    skipped: int = 0
    tokens: int = 0
    spent: float = 0.0
    estimated_cost: float = 0.0
    estimated_tokens: int = 0
    #: Ids that could not be written to the new version (embedding failure, a failed dual write…).
    failed_ids: list[str] = field(default_factory=list)
    paused_reason: str = ""
    runs: int = 0
    updated_at: float = 0.0


@dataclass(slots=True)
class MigrationState:
    """Everything a process needs to route a logical namespace during a migration."""

    logical: str
    source: str
    target: str
    phase: Phase = "planned"
    schedule: Schedule = field(default_factory=Schedule)
    #: Index into ``schedule.steps``; -1 means the rollout has not started.
    step: int = -1
    step_started_at: float = 0.0
    adapter_path: str | None = None
    budget: float | None = None
    parity: dict[str, Any] | None = None
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    quality: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    #: Bumped on every save; lets a reader notice a change cheaply.
    revision: int = 0

    def __post_init__(self) -> None:
        parse_logical(self.logical)
        if self.source == self.target:
            raise ConfigurationError(
                f"migration of {self.logical} goes from {self.source!r} to the same version",
                field="--to",
                fix="name a different model version",
            )

    @property
    def salt(self) -> str:
        """Bucketing salt: users are split independently for every (namespace, source, target)."""
        return f"{self.logical}/{self.source}->{self.target}"

    @property
    def parity_passed(self) -> bool:
        return bool(self.parity and self.parity.get("passed"))

    def split(self) -> Split:
        return self.schedule.split_at(self.step)

    def note(self, action: str, detail: str = "") -> None:
        self.history.append({"at": time.time(), "action": action, "detail": detail})
        del self.history[:-50]  # the log is for humans reading `status`, not an audit trail

    def to_json(self) -> str:
        data = asdict(self)
        data["schedule"]["steps"] = list(self.schedule.steps)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> MigrationState:
        data = json.loads(text)
        data["schedule"] = Schedule(**{**data["schedule"], "steps": tuple(data["schedule"]["steps"])})
        data["checkpoint"] = Checkpoint(**data["checkpoint"])
        return cls(**data)


class StateStore(Protocol):
    """Where migration state and rollback flags live. ``snapshot`` is on the search path: one cheap read."""

    def load(self, logical: str) -> MigrationState | None: ...

    def save(self, state: MigrationState) -> None: ...

    def delete(self, logical: str) -> None: ...

    def list(self) -> list[str]: ...

    def rolled_back(self, logical: str) -> bool: ...

    def set_rollback(self, logical: str, on: bool) -> None: ...

    def snapshot(self, logical: str) -> tuple[MigrationState | None, bool]:
        """The state and the rollback flag together (one round trip for Redis). Without a state the flag
        means nothing (there is no migration to roll back), and a store may report it as ``False``."""
        ...

    def add_failures(self, logical: str, ids: Iterable[str]) -> None:
        """Remember ids whose write to the new version failed (a lost dual write); append-only, race-free."""

    def failures(self, logical: str) -> set[str]: ...

    def clear_failures(self, logical: str, ids: Iterable[str]) -> None: ...

    def put_quality(self, logical: str, process: str, summary: dict[str, Any]) -> None:
        """Publish one process's per-arm quality summary (each process owns its own entry)."""

    def quality(self, logical: str) -> dict[str, dict[str, Any]]:
        """Every process's last published summary, by process name."""
        ...

    def close(self) -> None: ...


#: Logical names whose file stem a FileStateStore keeps ready before it starts over.
_MAX_STEMS = 4096


def _file_key(logical: str) -> str:
    tenant, feature, _ = parse_logical(logical)
    return f"{tenant}+{feature}"  # namespace parts never contain '+', and ':' is not portable in file names


class FileStateStore:
    """State as ``<dir>/<tenant>+<feature>.json``; the rollback flag is the file ``<…>.rollback``.

    Writes go to a temporary file then ``os.replace`` (atomic on POSIX), so a reader never sees half a state.
    Reads re-parse a state file only when its ``stat`` changed.

    >>> import tempfile
    >>> store = FileStateStore(tempfile.mkdtemp())
    >>> store.set_rollback("acme:docs", True); store.rolled_back("acme:docs")
    True
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        # stat stamp -> file text: a search re-reads the file only after it changed
        self._cache: dict[str, tuple[tuple[int, int, int], str]] = {}
        # logical name -> "<dir>/<tenant>+<feature>": every search on a logical name looks its state up here
        self._stems: dict[str, str] = {}

    def _stem(self, logical: str) -> str:
        stem = self._stems.get(logical)
        if stem is None:
            if len(self._stems) >= _MAX_STEMS:  # callers may search many names; the stems are cheap to redo
                self._stems.clear()
            stem = self._stems[logical] = os.path.join(self.directory, _file_key(logical))
        return stem

    def _state_path(self, logical: str) -> Path:
        return Path(self._stem(logical) + ".json")

    def _flag_path(self, logical: str) -> Path:
        return Path(self._stem(logical) + ".rollback")

    def load(self, logical: str) -> MigrationState | None:
        path = self._stem(logical) + ".json"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._cache.pop(logical, None)
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(logical)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Path(path).read_text())
            self._cache[logical] = cached
        return MigrationState.from_json(cached[1])  # a fresh object: callers may mutate and save it

    def save(self, state: MigrationState) -> None:
        state.revision += 1
        path = self._state_path(state.logical)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(state.to_json())
        os.replace(tmp, path)
        self._cache.pop(state.logical, None)

    def delete(self, logical: str) -> None:
        self._state_path(logical).unlink(missing_ok=True)
        self._flag_path(logical).unlink(missing_ok=True)
        self._failed_path(logical).unlink(missing_ok=True)
        self._cache.pop(logical, None)

    def list(self) -> list[str]:
        return sorted(p.stem.replace("+", ":") for p in self.directory.glob("*.json"))

    def rolled_back(self, logical: str) -> bool:
        return os.path.exists(self._stem(logical) + ".rollback")

    def set_rollback(self, logical: str, on: bool) -> None:
        flag = self._flag_path(logical)
        if on:
            tmp = flag.with_name(f".{flag.name}.{os.getpid()}.tmp")
            tmp.write_text(str(time.time()))
            os.replace(tmp, flag)
        else:
            flag.unlink(missing_ok=True)

    def snapshot(self, logical: str) -> tuple[MigrationState | None, bool]:
        state = self.load(logical)
        # without a state there is no old version to fall back to, so no search reads the flag: skip its stat
        return state, state is not None and self.rolled_back(logical)

    def _failed_path(self, logical: str) -> Path:
        return Path(self._stem(logical) + ".failed")

    def add_failures(self, logical: str, ids: Iterable[str]) -> None:
        lines = "".join(f"+{json.dumps(i)}\n" for i in ids)
        if lines:
            # one O_APPEND write per call: concurrent writers interleave whole lines, never parts
            with self._failed_path(logical).open("a") as fh:
                fh.write(lines)

    def clear_failures(self, logical: str, ids: Iterable[str]) -> None:
        lines = "".join(f"-{json.dumps(i)}\n" for i in ids)
        if lines:
            with self._failed_path(logical).open("a") as fh:
                fh.write(lines)

    def failures(self, logical: str) -> set[str]:
        out: set[str] = set()
        try:
            text = self._failed_path(logical).read_text()
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            if line[:1] == "+":
                out.add(json.loads(line[1:]))
            elif line[:1] == "-":
                out.discard(json.loads(line[1:]))
        return out

    def put_quality(self, logical: str, process: str, summary: dict[str, Any]) -> None:
        path = self.directory / f"{_file_key(logical)}.quality.{process}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(summary))
        os.replace(tmp, path)

    def quality(self, logical: str) -> dict[str, dict[str, Any]]:
        prefix = f"{_file_key(logical)}.quality."
        return {
            p.name[len(prefix) : -len(".json")]: json.loads(p.read_text())
            for p in sorted(self.directory.glob(f"{prefix}*.json"))
        }

    def close(self) -> None:
        self._cache.clear()


@contextmanager
def map_redis_error(what: str) -> Iterator[None]:
    """Map redis-py's exceptions into our error tree (the one place this adapter does so)."""
    import redis

    try:
        yield
    except redis.TimeoutError as exc:
        raise Timeout(f"{what}: {exc}", backend="redis") from exc
    except redis.RedisError as exc:  # connection refused, reset, server errors
        raise BackendUnavailable(f"{what}: {exc}", backend="redis") from exc


class RedisStateStore:
    """State as ``{prefix}:state:{logical}`` (JSON) and the flag as ``{prefix}:rollback:{logical}`` in Redis.

    Every process built against the same Redis sees a flag flip on its next search.
    """

    def __init__(self, url: str, *, prefix: str = "vr:migration", socket_timeout: float = 0.5) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - redis is in the 'redis' extra
            raise ConfigurationError(
                "the Redis migration state needs the 'redis' extra",
                field="migration.state",
                fix="pip install 'vectorrouter[redis]' or use state = 'file'",
            ) from exc
        self.prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )

    def _key(self, kind: str, logical: str) -> str:
        parse_logical(logical)
        return f"{self.prefix}:{kind}:{logical}"

    def load(self, logical: str) -> MigrationState | None:
        with map_redis_error("reading migration state"):
            raw = self._client.get(self._key("state", logical))
        return MigrationState.from_json(raw) if raw else None

    def save(self, state: MigrationState) -> None:
        state.revision += 1
        with map_redis_error("saving migration state"):
            self._client.set(self._key("state", state.logical), state.to_json())

    def delete(self, logical: str) -> None:
        with map_redis_error("deleting migration state"):
            self._client.delete(
                self._key("state", logical),
                self._key("rollback", logical),
                self._key("failed", logical),
                self._key("quality", logical),
            )

    def list(self) -> list[str]:
        start = len(f"{self.prefix}:state:")
        with map_redis_error("listing migrations"):
            keys = list(self._client.scan_iter(match=f"{self.prefix}:state:*", count=500))
        return sorted(k.decode()[start:] for k in keys)

    def rolled_back(self, logical: str) -> bool:
        with map_redis_error("reading the rollback flag"):
            return bool(self._client.exists(self._key("rollback", logical)))

    def set_rollback(self, logical: str, on: bool) -> None:
        with map_redis_error("setting the rollback flag"):
            if on:
                self._client.set(self._key("rollback", logical), str(time.time()))
            else:
                self._client.delete(self._key("rollback", logical))

    def snapshot(self, logical: str) -> tuple[MigrationState | None, bool]:
        with map_redis_error("reading migration state"):
            raw, flag = self._client.mget(self._key("state", logical), self._key("rollback", logical))
        return (MigrationState.from_json(raw) if raw else None), flag is not None

    def add_failures(self, logical: str, ids: Iterable[str]) -> None:
        items = list(ids)
        if items:
            with map_redis_error("recording failed dual writes"):
                self._client.sadd(self._key("failed", logical), *items)

    def failures(self, logical: str) -> set[str]:
        with map_redis_error("reading failed dual writes"):
            members = self._client.smembers(self._key("failed", logical))
        return {m.decode() for m in members}  # type: ignore[union-attr]

    def clear_failures(self, logical: str, ids: Iterable[str]) -> None:
        items = list(ids)
        if items:
            with map_redis_error("clearing failed dual writes"):
                self._client.srem(self._key("failed", logical), *items)

    def put_quality(self, logical: str, process: str, summary: dict[str, Any]) -> None:
        with map_redis_error("publishing quality"):
            self._client.hset(self._key("quality", logical), process, json.dumps(summary))

    def quality(self, logical: str) -> dict[str, dict[str, Any]]:
        with map_redis_error("reading quality"):
            raw = self._client.hgetall(self._key("quality", logical))
        return {k.decode(): json.loads(v) for k, v in raw.items()}  # type: ignore[union-attr]

    def close(self) -> None:
        self._client.close()
