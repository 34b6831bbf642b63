"""L3: the persistent embedding store — a SQLite file by default, PostgreSQL when configured.

Both keep one row per (model fingerprint, task, text) with the text's own digest beside it, so an erasure
finds every version's vector of a text, even versions that are no longer declared. Vectors are raw
little-endian float32 bytes. The two stores share their SQL shape and pass one contract test class.

>>> store = SQLiteStore(":memory:")
>>> from vectorrouter.embeddings.cache import cache_key
>>> k = cache_key("v|p|m|2|query||", "query", "hi")
>>> store.put_many([(k, np.array([0.5, -1.0], dtype=np.float32))])
>>> store.get_many([k])[k.key].tolist(), store.count_texts([k.text_hash])
([0.5, -1.0], 1)
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from vectorrouter.embeddings.cache import CacheKey, decode_vector, encode_vector
from vectorrouter.errors import BackendUnavailable, ConfigurationError, Timeout, VectorRouterError

__all__ = ["PostgresStore", "SQLiteStore", "map_postgres_error", "map_sqlite_error"]

T = TypeVar("T")
_CHUNK = 500  # bound the size of one IN (...) list


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def map_sqlite_error(exc: sqlite3.Error) -> VectorRouterError:
    """The one place sqlite3 exceptions become vectorrouter errors."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return Timeout(f"sqlite embedding cache is locked: {exc}", backend="sqlite")
    return BackendUnavailable(f"sqlite embedding cache failed: {exc}", backend="sqlite")


class _ByColumn:
    """Erasure by key or by text hash, in terms of each store's own ``_delete_where`` / ``_count_where``."""

    def _delete_where(self, column: str, values: Sequence[str]) -> int:
        raise NotImplementedError

    def _count_where(self, column: str, values: Sequence[str]) -> int:
        raise NotImplementedError

    def delete(self, keys: Sequence[CacheKey]) -> int:
        return self._delete_where("key", [k.key for k in keys])

    def delete_texts(self, text_hashes: Sequence[str]) -> int:
        return self._delete_where("text_hash", text_hashes)

    def count_texts(self, text_hashes: Sequence[str]) -> int:
        return self._count_where("text_hash", text_hashes)


class SQLiteStore(_ByColumn):
    """Embedding vectors in one SQLite file (``":memory:"`` for a throwaway store)."""

    name = "sqlite"

    def __init__(
        self, path: str | Path = "embedding-cache.sqlite", *, table: str = "vr_embedding_cache"
    ) -> None:
        _check_identifier(table, "table")
        self.path = str(path)
        self.table = table
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._lock = threading.Lock()
        self._run(self._create)

    def _create(self) -> None:
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "PRAGMA synchronous=NORMAL"
            )  # a cache: consistent after a crash, no fsync per write
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, text_hash TEXT NOT NULL, "
            "version TEXT NOT NULL, task TEXT NOT NULL, dims INTEGER NOT NULL, vector BLOB NOT NULL, "
            "created_at REAL NOT NULL)"
        )
        self._db.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_text ON {self.table} (text_hash)")

    def _run(self, fn: Callable[[], T]) -> T:
        with self._lock:
            try:
                return fn()
            except sqlite3.Error as exc:
                raise map_sqlite_error(exc) from exc

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        def read() -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            for part in _chunks([k.key for k in keys]):
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, vector FROM {self.table} WHERE key IN ({marks})", part)
                out.update((key, decode_vector(blob)) for key, blob in rows)
            return out

        return self._run(read) if keys else {}

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        now = time.time()
        rows = [
            (k.key, k.text_hash, k.version, k.task, int(np.asarray(v).shape[-1]), encode_vector(v), now)
            for k, v in items
        ]

        def write() -> None:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?,?,?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

        if rows:
            self._run(write)

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        def check() -> set[str]:
            out: set[str] = set()
            for part in _chunks([k.key for k in keys]):
                marks = ",".join("?" * len(part))
                out.update(
                    r[0]
                    for r in self._db.execute(f"SELECT key FROM {self.table} WHERE key IN ({marks})", part)
                )
            return out

        return self._run(check) if keys else set()

    def _count_where(self, column: str, values: Sequence[str]) -> int:
        def count() -> int:
            n = 0
            for part in _chunks(list(values)):
                marks = ",".join("?" * len(part))
                n += self._db.execute(
                    f"SELECT COUNT(*) FROM {self.table} WHERE {column} IN ({marks})", part
                ).fetchone()[0]
            return n

        return self._run(count) if values else 0

    def _delete_where(self, column: str, values: Sequence[str]) -> int:
        def delete() -> int:
            n = 0
            for part in _chunks(list(values)):
                marks = ",".join("?" * len(part))
                n += self._db.execute(f"DELETE FROM {self.table} WHERE {column} IN ({marks})", part).rowcount
            return n

        return self._run(delete) if values else 0

    def __len__(self) -> int:
        return int(self._run(lambda: self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def map_postgres_error(exc: Exception) -> VectorRouterError:
    """The one place psycopg exceptions become vectorrouter errors."""
    import psycopg

    if isinstance(exc, psycopg.errors.QueryCanceled):
        return Timeout(f"postgres embedding cache query timed out: {exc}", backend="postgres")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.InvalidPassword):
        return ConfigurationError(
            f"postgres refused the embedding cache: {exc}",
            field="embeddings.cache.database_url",
            fix="grant the user CREATE/SELECT/INSERT/DELETE on the cache schema",
        )
    return BackendUnavailable(f"postgres embedding cache failed: {exc}", backend="postgres")


class PostgresStore(_ByColumn):
    """Embedding vectors in PostgreSQL (``schema.table``, created on first use).

    One connection guarded by a lock (cache calls are short); a broken connection is reopened on the next
    call, so a database restart costs the calls made while it was down and nothing after.
    """

    name = "postgres"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        table: str = "vr_embedding_cache",
        connect_timeout: float = 2.0,
        statement_timeout_ms: int = 2000,
    ) -> None:
        _check_identifier(schema, "schema")
        _check_identifier(table, "table")
        self.dsn = dsn
        self.schema = schema
        self.table = table
        self.qualified = f'"{schema}"."{table}"'
        self.connect_timeout = connect_timeout
        self.statement_timeout_ms = statement_timeout_ms
        self._conn: Any = None
        self._lock = threading.Lock()
        self._run(self._create)

    def _connection(self) -> Any:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                "the PostgreSQL embedding cache needs the 'postgres' extra",
                field="embeddings.cache.database_url",
                fix="pip install 'vectorrouter[postgres]'",
            ) from exc
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
                options=f"-c statement_timeout={self.statement_timeout_ms}",
            )
        return self._conn

    def _create(self, conn: Any) -> None:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.qualified} (key TEXT PRIMARY KEY, text_hash TEXT NOT NULL, "
            "version TEXT NOT NULL, task TEXT NOT NULL, dims INTEGER NOT NULL, vector BYTEA NOT NULL, "
            "created_at DOUBLE PRECISION NOT NULL)"
        )
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{self.table}_text" ON {self.qualified} (text_hash)')

    def _run(self, fn: Callable[[Any], T]) -> T:
        import psycopg

        with self._lock:
            try:
                return fn(self._connection())
            except psycopg.Error as exc:
                if self._conn is not None and (self._conn.closed or self._conn.broken):
                    self._conn = None  # reconnect on the next call
                raise map_postgres_error(exc) from exc

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        def read(conn: Any) -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            for part in _chunks([k.key for k in keys]):
                rows = conn.execute(
                    f"SELECT key, vector FROM {self.qualified} WHERE key = ANY(%s)", (list(part),)
                )
                out.update((key, decode_vector(bytes(blob))) for key, blob in rows)
            return out

        return self._run(read) if keys else {}

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        now = time.time()
        rows = [
            (k.key, k.text_hash, k.version, k.task, int(np.asarray(v).shape[-1]), encode_vector(v), now)
            for k, v in items
        ]

        def write(conn: Any) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self.qualified} VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (key) DO UPDATE "
                    "SET vector = EXCLUDED.vector, dims = EXCLUDED.dims, created_at = EXCLUDED.created_at",
                    rows,
                )

        if rows:
            self._run(write)

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        def check(conn: Any) -> set[str]:
            out: set[str] = set()
            for part in _chunks([k.key for k in keys]):
                rows = conn.execute(f"SELECT key FROM {self.qualified} WHERE key = ANY(%s)", (list(part),))
                out.update(r[0] for r in rows)
            return out

        return self._run(check) if keys else set()

    def _count_where(self, column: str, values: Sequence[str]) -> int:
        def count(conn: Any) -> int:
            return sum(
                int(
                    conn.execute(
                        f"SELECT COUNT(*) FROM {self.qualified} WHERE {column} = ANY(%s)", (list(p),)
                    ).fetchone()[0]
                )
                for p in _chunks(list(values))
            )

        return self._run(count) if values else 0

    def _delete_where(self, column: str, values: Sequence[str]) -> int:
        def delete(conn: Any) -> int:
            return sum(
                int(
                    conn.execute(
                        f"DELETE FROM {self.qualified} WHERE {column} = ANY(%s)", (list(p),)
                    ).rowcount
                )
                for p in _chunks(list(values))
            )

        return self._run(delete) if values else 0

    def __len__(self) -> int:
        return self._run(lambda c: int(c.execute(f"SELECT COUNT(*) FROM {self.qualified}").fetchone()[0]))

    def drop(self) -> None:
        """Remove the table (tests and teardown)."""
        self._run(lambda c: c.execute(f"DROP TABLE IF EXISTS {self.qualified}"))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _check_identifier(value: str, what: str) -> None:
    if not _IDENT.match(value):
        raise ConfigurationError(
            f"{what} name {value!r} is not a plain SQL identifier",
            field=f"embeddings.cache.{what}",
            fix="use letters, digits and underscores, starting with a letter",
        )
