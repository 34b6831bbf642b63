"""The compliance-store contracts on SQLite (in memory and on disk); PostgreSQL runs them in integration/."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorrouter.compliance import Database
from vectorrouter.compliance.testing import (
    AuditLogContract,
    ErasureIndexContract,
    MemoryKeyword,
    VaultContract,
)
from vectorrouter.testing import KeywordBackendConformance


class _InMemory:
    @pytest.fixture
    def database(self) -> Iterator[Database]:
        db = Database.connect(None)
        yield db
        db.close()


class _OnDisk:
    @pytest.fixture
    def database(self, tmp_path: Path) -> Iterator[Database]:
        db = Database.connect(f"sqlite:///{tmp_path / 'compliance.sqlite'}")
        yield db
        db.close()


class TestVaultSqliteMemory(_InMemory, VaultContract):
    pass


class TestVaultSqliteFile(_OnDisk, VaultContract):
    pass


class TestAuditSqliteMemory(_InMemory, AuditLogContract):
    pass


class TestAuditSqliteFile(_OnDisk, AuditLogContract):
    pass


class TestErasureIndexSqlite(_InMemory, ErasureIndexContract):
    pass


class TestMemoryKeywordDouble(KeywordBackendConformance):
    """The keyword double used by the compliance router tests honours the keyword-backend contract."""

    @pytest.fixture
    def backend(self) -> MemoryKeyword:
        return MemoryKeyword()
