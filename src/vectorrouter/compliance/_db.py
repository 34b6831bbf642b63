"""One small SQL seam for the compliance stores: SQLite by default, PostgreSQL when configured.

The vault, the audit log, the erasure index and the erasure job state all speak this class, so each is
written once and runs on both databases. SQL is written with ``?`` placeholders and ``{blob}`` / ``{bigint}``
type markers; the PostgreSQL face translates them. Driver errors are mapped into
:mod:`vectorrouter.errors` in exactly one place, :func:`map_db_error`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from vectorrouter.errors import BackendUnavailable, ConfigurationError, VectorRouterError

__all__ = ["Database", "database_url", "map_db_error"]

Dialect = Literal["sqlite", "postgresql"]
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"blob": "BLOB", "bigint": "INTEGER"},
    "postgresql": {"blob": "BYTEA", "bigint": "BIGINT"},
}
#: How many values one ``IN (...)`` list carries; keeps both drivers far below their parameter limits.
CHUNK = 500


def database_url(text: str) -> str:
    """``text`` as :meth:`Database.connect` takes it: a path, ``sqlite:///path`` or ``postgresql://…``.

    SQLAlchemy-style ``postgresql+psycopg://`` and ``postgres://`` are read as ``postgresql://``; any other
    scheme is refused (it would otherwise be taken for a file name and a SQLite file created under it).

    >>> database_url("postgresql+psycopg://me@db/test")
    'postgresql://me@db/test'
    >>> database_url("mysql://me@db/test")
    Traceback (most recent call last):
    vectorrouter.errors.ConfigurationError: compliance.database: unsupported database URL scheme 'mysql' Fix: give a file path (SQLite), sqlite:///path, or postgresql://user@host/db
    """
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgresql", "postgres"):
        return f"postgresql://{rest}"
    if base == "sqlite" and scheme.lower() == "sqlite":
        return text
    raise ConfigurationError(
        f"unsupported database URL scheme {scheme!r}",
        field="compliance.database",
        fix="give a file path (SQLite), sqlite:///path, or postgresql://user@host/db",
    )


def map_db_error(exc: BaseException, *, backend: str) -> VectorRouterError:
    """The one place where sqlite3 / psycopg exceptions become vectorrouter errors."""
    if isinstance(exc, VectorRouterError):
        return exc
    if isinstance(exc, sqlite3.OperationalError):
        return BackendUnavailable(f"{exc}", backend=backend)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is optional
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return BackendUnavailable(f"{exc}".strip(), backend=backend)
    return BackendUnavailable(f"{type(exc).__name__}: {exc}", backend=backend)


class Database:
    """A connection plus a lock, with the SQL differences between SQLite and PostgreSQL ironed out.

    >>> db = Database.connect(None)              # SQLite in memory
    >>> db.script("CREATE TABLE t (k TEXT PRIMARY KEY, v {blob})")
    >>> db.execute("INSERT INTO t VALUES (?, ?)", ("a", b"1"))
    >>> db.query("SELECT k, v FROM t")
    [('a', b'1')]
    >>> db.close()
    """

    def __init__(self, conn: Any, dialect: Dialect, *, label: str) -> None:
        self._conn = conn
        self.dialect: Dialect = dialect
        self.label = label
        self._lock = threading.RLock()
        self._depth = 0

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def connect(cls, url: str | Path | None, *, schema: str | None = None) -> Database:
        """``None`` → SQLite in memory; a path or ``sqlite:///path`` → SQLite file; ``postgresql://…`` → PostgreSQL.

        ``schema`` (PostgreSQL only) puts every table in that schema, created if missing.
        """
        if url is None:
            return cls._sqlite(":memory:")
        text = database_url(str(url))
        if text.startswith("postgresql://"):
            return cls._postgres(text, schema)
        if schema is not None:
            raise ConfigurationError(
                "a schema only applies to PostgreSQL", field="compliance.schema", fix="remove it for SQLite"
            )
        path = text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls._sqlite(path)

    @classmethod
    def _sqlite(cls, path: str) -> Database:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        return cls(conn, "sqlite", label=f"sqlite:{path}")

    @classmethod
    def _postgres(cls, url: str, schema: str | None) -> Database:
        try:
            import psycopg
        except ImportError as exc:
            raise ConfigurationError(
                "PostgreSQL needs the psycopg package",
                field="compliance.database",
                fix="pip install 'vectorrouter[compliance]'",
            ) from exc
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise ConfigurationError(
                f"schema {schema!r} is not a plain lower-case identifier",
                field="compliance.schema",
                fix="use letters, digits and '_' only, e.g. 'vectorrouter'",
            )
        try:
            conn = psycopg.connect(url, autocommit=True)
            if schema is not None:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                conn.execute(f'SET search_path TO "{schema}"')
        except Exception as exc:
            raise map_db_error(exc, backend="postgresql") from exc
        return cls(conn, "postgresql", label=f"postgresql:{schema or 'public'}")

    # -- SQL --------------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def script(self, ddl: str) -> None:
        """Run ``;``-separated DDL once, with ``{blob}`` and ``{bigint}`` mapped to this dialect's types."""
        text = ddl.format(**_TYPES[self.dialect])
        with self.transaction():
            for stmt in (s.strip() for s in text.split(";")):
                if stmt:
                    self.execute(stmt)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            try:
                self._conn.execute(self._sql(sql), tuple(params))
            except Exception as exc:
                raise map_db_error(exc, backend=self.label) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if not batch:
            return
        # one transaction per batch: all rows or none, and one commit (fsync) instead of one per row
        with self.transaction():
            try:
                if self.dialect == "sqlite":
                    self._conn.executemany(sql, batch)
                else:
                    with self._conn.cursor() as cur:
                        cur.executemany(self._sql(sql), batch)
            except Exception as exc:
                raise map_db_error(exc, backend=self.label) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                rows = self._conn.execute(self._sql(sql), tuple(params)).fetchall()
            except Exception as exc:
                raise map_db_error(exc, backend=self.label) from exc
        return [tuple(r) for r in rows]

    def query_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (holding one ``{in}`` marker) over ``values`` in chunks; ``params`` come first."""
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(values), CHUNK):
            chunk = list(values[start : start + CHUNK])
            marks = ",".join("?" * len(chunk))
            out.extend(self.query(sql.replace("{in}", marks), [*params, *chunk]))
        return out

    def execute_in(self, sql: str, values: Sequence[Any], params: Sequence[Any] = ()) -> int:
        """Like :meth:`query_in` for ``DELETE``/``UPDATE``; returns the number of rows changed."""
        changed = 0
        for start in range(0, len(values), CHUNK):
            chunk = list(values[start : start + CHUNK])
            marks = ",".join("?" * len(chunk))
            with self._lock:
                try:
                    cur = self._conn.execute(self._sql(sql.replace("{in}", marks)), (*params, *chunk))
                except Exception as exc:
                    raise map_db_error(exc, backend=self.label) from exc
                changed += max(cur.rowcount, 0)
        return changed

    @contextmanager
    def transaction(self, *, lock_table: str | None = None) -> Iterator[Database]:
        """All statements inside commit together or not at all. Re-entrant (inner blocks join the outer one).

        ``lock_table`` serialises writers across processes (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
        ``LOCK TABLE``), for appends that read the last row before writing the next one.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._depth = 1
            try:
                if self.dialect == "sqlite":
                    yield from self._sqlite_tx(lock_table is not None)
                else:
                    yield from self._pg_tx(lock_table)
            finally:
                self._depth = 0

    def _sqlite_tx(self, immediate: bool) -> Iterator[Database]:
        try:
            self._conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except Exception as exc:
            raise map_db_error(exc, backend=self.label) from exc
        try:
            yield self
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _pg_tx(self, lock_table: str | None) -> Iterator[Database]:
        try:
            tx = self._conn.transaction()
            tx.__enter__()
        except Exception as exc:
            raise map_db_error(exc, backend=self.label) from exc
        try:
            if lock_table is not None:
                self._conn.execute(f"LOCK TABLE {lock_table} IN SHARE ROW EXCLUSIVE MODE")
            yield self
        except BaseException as exc:
            tx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        tx.__exit__(None, None, None)

    def close(self) -> None:
        # closing twice or after a lost connection is not an error
        with self._lock, contextlib.suppress(Exception):
            self._conn.close()
