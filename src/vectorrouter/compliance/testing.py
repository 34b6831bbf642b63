"""Contract tests for the compliance stores, run against SQLite and PostgreSQL alike, and a keyword double.

Subclass a contract and provide a ``database`` fixture yielding a fresh :class:`Database`::

    class TestVaultOnSqlite(VaultContract):
        @pytest.fixture
        def database(self):
            db = Database.connect(None)
            yield db
            db.close()

Needs pytest (a test dependency, not a runtime one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

import pytest

from vectorrouter.compliance._db import Database
from vectorrouter.compliance.audit import AuditHead, AuditLog
from vectorrouter.compliance.index import ErasureIndex
from vectorrouter.compliance.keys import KeyedIds, Keyring
from vectorrouter.compliance.vault import IdentityVault, VaultEntry
from vectorrouter.errors import IntegrityError, InvalidRecord
from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

__all__ = ["AuditLogContract", "ErasureIndexContract", "MemoryKeyword", "VaultContract"]

SECRET_1 = b"vault-contract-secret-one-32-bytes!!"
SECRET_2 = b"vault-contract-secret-two-32-bytes!!"


class VaultContract:
    """The identity vault's behaviour, whatever database holds it."""

    @pytest.fixture
    def database(self) -> Iterator[Database]:  # pragma: no cover - subclasses provide it
        raise NotImplementedError

    @pytest.fixture
    def ring(self) -> Keyring:
        return Keyring({"k1": SECRET_1})

    @pytest.fixture
    def vault(self, database: Database, ring: Keyring) -> IdentityVault:
        return IdentityVault(database, ring)

    def test_reveal_returns_the_identity_put_under_its_digest(
        self, vault: IdentityVault, ring: Keyring
    ) -> None:
        d = KeyedIds(ring).doc("acme", "contract-42.pdf")
        vault.put([VaultEntry(d, "doc", "contract-42.pdf")])
        assert vault.reveal([d]) == {d: "contract-42.pdf"}
        assert vault.existing([d, "k1:" + "0" * 64]) == {d}

    def test_rows_hold_no_plaintext_identity(self, vault: IdentityVault, ring: Keyring) -> None:
        value = "alice.martin@example.org"
        d = KeyedIds(ring).user(value)
        vault.put([VaultEntry(d, "user", value)])
        rows = vault.db.query("SELECT * FROM vr_vault")
        flat = b"".join(c if isinstance(c, bytes) else str(c).encode() for row in rows for c in row)
        assert value.encode() not in flat
        assert b"alice" not in flat

    def test_put_twice_keeps_one_row_with_the_first_identity(
        self, vault: IdentityVault, ring: Keyring
    ) -> None:
        d = KeyedIds(ring).doc("acme", "a")
        vault.put([VaultEntry(d, "doc", "a")])
        vault.put([VaultEntry(d, "doc", "a")])
        assert vault.count() == 1
        assert vault.reveal([d]) == {d: "a"}

    def test_forget_deletes_rows_and_reveal_then_omits_them(
        self, vault: IdentityVault, ring: Keyring
    ) -> None:
        ids = KeyedIds(ring)
        a, b = ids.doc("t", "a"), ids.doc("t", "b")
        vault.put([VaultEntry(a, "doc", "a"), VaultEntry(b, "doc", "b")])
        assert vault.forget([a, a]) == 1
        assert vault.reveal([a, b]) == {b: "b"}
        assert vault.forget([a]) == 0

    def test_ciphertext_moved_to_another_row_fails_integrity(
        self, vault: IdentityVault, ring: Keyring
    ) -> None:
        ids = KeyedIds(ring)
        a, b = ids.doc("t", "a"), ids.doc("t", "b")
        vault.put([VaultEntry(a, "doc", "first"), VaultEntry(b, "doc", "second")])
        nonce, sealed = vault.db.query("SELECT nonce, sealed FROM vr_vault WHERE digest = ?", (a,))[0]
        vault.db.execute("UPDATE vr_vault SET nonce = ?, sealed = ? WHERE digest = ?", (nonce, sealed, b))
        with pytest.raises(IntegrityError, match="does not decrypt"):
            vault.reveal([b])

    def test_rows_sealed_before_a_rotation_still_open(self, vault: IdentityVault, ring: Keyring) -> None:
        ids = KeyedIds(ring)
        old = ids.doc("t", "old")
        vault.put([VaultEntry(old, "doc", "old")])
        ring.rotate("k2", SECRET_2)
        new = ids.doc("t", "new")
        vault.put([VaultEntry(new, "doc", "new")])
        assert new.startswith("k2:")
        assert old.startswith("k1:")
        assert vault.reveal([old, new]) == {old: "old", new: "new"}
        assert vault.count(seal_key="k1") == 1
        assert vault.count(seal_key="k2") == 1

    def test_reseal_moves_rows_to_the_active_key(self, vault: IdentityVault, ring: Keyring) -> None:
        ids = KeyedIds(ring)
        digests = [ids.doc("t", f"d{i}") for i in range(7)]
        vault.put([VaultEntry(d, "doc", f"d{i}") for i, d in enumerate(digests)])
        ring.rotate("k2", SECRET_2)
        assert vault.reseal("k1", batch=3) == 7
        assert vault.count(seal_key="k1") == 0
        assert vault.reveal(digests) == {d: f"d{i}" for i, d in enumerate(digests)}

    def test_lookups_span_more_digests_than_one_sql_chunk(self, vault: IdentityVault, ring: Keyring) -> None:
        ids = KeyedIds(ring)
        digests = [ids.doc("t", str(i)) for i in range(1203)]
        vault.put([VaultEntry(d, "doc", str(i)) for i, d in enumerate(digests)])
        revealed = vault.reveal(digests)
        assert len(revealed) == 1203
        assert revealed[digests[1202]] == "1202"
        assert vault.forget(digests) == 1203

    def test_entries_that_are_not_keyed_digests_are_refused(self, vault: IdentityVault) -> None:
        with pytest.raises(InvalidRecord, match="keyed digests"):
            vault.put([VaultEntry("alice", "user", "alice")])
        assert vault.count() == 0


class AuditLogContract:
    """The audit chain's tamper evidence, whatever database holds it."""

    @pytest.fixture
    def database(self) -> Iterator[Database]:  # pragma: no cover - subclasses provide it
        raise NotImplementedError

    @pytest.fixture
    def log(self, database: Database) -> AuditLog:
        log = AuditLog(database)
        for i in range(5):
            log.append("erasure.place", f"k1:{i:064x}", {"place": f"vector/t:f:v{i}", "deleted": i})
        return log

    def test_untouched_chain_verifies(self, log: AuditLog) -> None:
        result = log.verify()
        assert result.ok, result.summary()
        assert result.entries == 5
        assert result.head is not None
        assert result.head.seq == 5

    def test_edited_entry_is_detected_at_its_position(self, log: AuditLog) -> None:
        log.db.execute("UPDATE vr_audit SET details = ? WHERE seq = 3", ('{"deleted":0,"place":"x"}',))
        result = log.verify()
        assert not result.ok
        assert [(p.seq, p.kind) for p in result.problems] == [(3, "edited")]

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("action", "'erasure.verified'"),
            ("subject", "'k1:" + "0" * 64 + "'"),
            ("ts_us", "ts_us + 1"),
            ("prev", "'" + "1" * 64 + "'"),
        ],
    )
    def test_any_edited_column_is_detected(self, log: AuditLog, column: str, value: str) -> None:
        log.db.execute(f"UPDATE vr_audit SET {column} = {value} WHERE seq = 4")
        problems = {(p.seq, p.kind) for p in log.verify().problems}
        assert (4, "edited") in problems

    def test_a_rewritten_digest_breaks_the_next_link(self, log: AuditLog) -> None:
        log.db.execute("UPDATE vr_audit SET digest = ? WHERE seq = 2", ("2" * 64,))
        problems = {(p.seq, p.kind) for p in log.verify().problems}
        assert problems == {(2, "edited"), (3, "broken_link")}

    def test_removed_middle_entry_is_detected(self, log: AuditLog) -> None:
        log.db.execute("DELETE FROM vr_audit WHERE seq = 2")
        kinds = {(p.seq, p.kind) for p in log.verify().problems}
        assert (3, "missing") in kinds
        assert (3, "broken_link") in kinds

    def test_removed_first_entry_is_detected(self, log: AuditLog) -> None:
        log.db.execute("DELETE FROM vr_audit WHERE seq = 1")
        kinds = {(p.seq, p.kind) for p in log.verify().problems}
        assert (2, "bad_start") in kinds
        assert (2, "broken_link") in kinds

    def test_reordered_entries_are_detected(self, log: AuditLog) -> None:
        log.db.execute("UPDATE vr_audit SET seq = 100 WHERE seq = 2")
        log.db.execute("UPDATE vr_audit SET seq = 2 WHERE seq = 4")
        log.db.execute("UPDATE vr_audit SET seq = 4 WHERE seq = 100")
        problems = log.verify().problems
        assert {p.seq for p in problems} >= {2, 4}
        assert {p.kind for p in problems} >= {"edited", "broken_link"}

    def test_truncated_tail_is_detected_against_an_anchor(self, log: AuditLog) -> None:
        anchor = log.head()
        assert anchor == AuditHead(5, anchor.digest if anchor else "")
        log.db.execute("DELETE FROM vr_audit WHERE seq >= 4")
        assert log.verify().ok  # a shorter chain is consistent in itself: the documented limit
        result = log.verify(anchor=anchor)
        assert [(p.seq, p.kind) for p in result.problems] == [(5, "anchor")]

    def test_chain_recomputed_without_the_key_fails_a_keyed_log(self, database: Database) -> None:
        keyed = AuditLog(database, key=b"audit-key-" * 4)
        keyed.append("key.rotated", "k2", {"active": "k2"})
        keyed.append("erasure.verified", "k2:" + "a" * 64, {"deleted": 3})
        assert keyed.verify().ok
        assert not AuditLog(database).verify().ok  # a forger without the key computes other digests

    def test_appends_continue_the_chain_after_reopening(self, log: AuditLog, database: Database) -> None:
        again = AuditLog(database)
        entry = again.append("erasure.started", "k1:" + "f" * 64, {"job": "j"})
        assert entry.seq == 6
        assert again.verify().ok

    def test_details_must_be_flat_values(self, log: AuditLog) -> None:
        with pytest.raises(InvalidRecord, match="audit detail"):
            log.append("x", "s", {"nested": {"a": 1}})
        assert log.verify().entries == 5


class ErasureIndexContract:
    """The erasure index, whatever database holds it."""

    @pytest.fixture
    def database(self) -> Iterator[Database]:  # pragma: no cover - subclasses provide it
        raise NotImplementedError

    def test_where_groups_records_by_namespace_for_any_of_the_digests(self, database: Database) -> None:
        idx = ErasureIndex(database)
        idx.add([("k1:u", "a:b:v1", "r1"), ("k1:u", "a:b:v1", "r1"), ("k2:u", "a:b:v2", "r2")])
        idx.add([("k1:other", "a:b:v1", "r9")])
        assert idx.where(["k1:u", "k2:u"]) == {"a:b:v1": ["r1"], "a:b:v2": ["r2"]}
        assert idx.remove(["k1:u", "k2:u"]) == 2
        assert idx.where(["k1:u"]) == {}
        assert idx.count() == 1


def _tokens(text: str) -> set[str]:
    # a crude plural stemmer is enough for tests: "documents" matches "document"
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", text.lower())}


class MemoryKeyword:
    """An in-memory keyword backend with the reference filter semantics (IDF-weighted term overlap).

    A faithful stand-in for the embedded BM25 store in tests: same protocol, same filter semantics,
    checked by :class:`vectorrouter.testing.KeywordBackendConformance`.
    """

    name = "memory-keyword"

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, Record]] = {}

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        part = self.parts.setdefault(namespace, {})
        for r in records:
            part[r.id] = Record(id=r.id, text=r.text, metadata=dict(r.metadata))

    def _match(self, namespace: str, filter: Filter | None) -> list[Record]:
        return [
            r for r in self.parts.get(namespace, {}).values() if filter is None or filter.matches(r.metadata)
        ]

    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        terms = _tokens(query)
        docs = [(r, _tokens(r.text)) for r in self.parts.get(namespace, {}).values()]
        df = {t: sum(t in words for _, words in docs) for t in terms}
        scored = []
        for r, words in docs:
            if filter is not None and not filter.matches(r.metadata):
                continue
            score = sum(math.log(1 + len(docs) / df[t]) for t in terms if t in words)
            if score > 0:
                scored.append(Hit(id=r.id, score=score, text=r.text, metadata=r.metadata))
        scored.sort(key=lambda h: (-h.score, h.id))
        return scored[:k]

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        part = self.parts.get(namespace, {})
        return [part[i] for i in ids if i in part]

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        part = self.parts.get(namespace, {})
        return sum(part.pop(i, None) is not None for i in ids)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        return self.delete(namespace, [r.id for r in self._match(namespace, filter)])

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        return len(self._match(namespace, filter))

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        rows = sorted(self._match(namespace, filter), key=lambda r: r.id)
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]

    def close(self) -> None:
        pass
