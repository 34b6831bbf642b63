"""Real PostgreSQL for the compliance stores: a fresh schema per test, dropped afterwards.

Reads ``DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). When the server is
missing the tests skip with the reason, except under ``CI=true`` where they fail loudly.
"""

import os
import uuid
from collections.abc import Iterator

import pytest

from vectorrouter.compliance import Database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = database_url()
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {url} is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {url} is unreachable ({exc}); set DATABASE_URL to run these tests")
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    import psycopg

    schema = f"vr_compliance_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_database(pg_url: str, pg_schema: str) -> Iterator[Database]:
    db = Database.connect(pg_url, schema=pg_schema)
    yield db
    db.close()
