"""The same compliance-store contracts as on SQLite, against a real PostgreSQL server."""

import threading

import pytest

from vectorrouter.compliance import AuditLog, Database, verify_log
from vectorrouter.compliance.testing import AuditLogContract, ErasureIndexContract, VaultContract


class _Postgres:
    @pytest.fixture
    def database(self, pg_database: Database) -> Database:
        return pg_database


class TestVaultPostgres(_Postgres, VaultContract):
    pass


class TestAuditPostgres(_Postgres, AuditLogContract):
    pass


class TestErasureIndexPostgres(_Postgres, ErasureIndexContract):
    pass


def test_verify_log_opens_a_postgres_schema_by_url(
    pg_database: Database, pg_url: str, pg_schema: str
) -> None:
    log = AuditLog(pg_database)
    log.append("key.rotated", "k2", {"active": "k2"})
    assert verify_log(pg_url, schema=pg_schema).ok
    pg_database.execute("UPDATE vr_audit SET subject = 'k3' WHERE seq = 1")
    result = verify_log(pg_url, schema=pg_schema)
    assert not result.ok
    assert result.problems[0].kind == "edited"


def test_concurrent_appenders_on_two_connections_keep_one_unbroken_chain(pg_url: str, pg_schema: str) -> None:
    logs = [AuditLog(Database.connect(pg_url, schema=pg_schema)) for _ in range(2)]

    def append_many(log: AuditLog, who: int) -> None:
        for i in range(25):
            log.append("erasure.place", f"k1:{who}{i:063x}", {"n": i})

    try:
        threads = [threading.Thread(target=append_many, args=(log, w)) for w, log in enumerate(logs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result = logs[0].verify()
        assert result.ok, result.summary()
        assert result.entries == 50
    finally:
        for log in logs:
            log.db.close()
