"""The identity vault: digest → real identity, encrypted with AES-256-GCM, in SQLite or PostgreSQL.

This is the only place a caller's own document ids and user references exist after ingest. Every row is
sealed with a key derived from the keyring (``key id`` stored on the row, so old rows still open after a
rotation) and bound to its digest as associated data: a ciphertext copied onto another row does not open.
Erasing a row here is what makes a digest left anywhere else meaningless.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vectorrouter.compliance._db import Database
from vectorrouter.compliance.keys import Keyring, split_digest
from vectorrouter.errors import ConfigurationError, IntegrityError, InvalidRecord

__all__ = ["IdentityVault", "VaultEntry"]

_DDL = """
CREATE TABLE IF NOT EXISTS vr_vault (
    digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    digest_key TEXT NOT NULL,
    seal_key TEXT NOT NULL,
    nonce {blob} NOT NULL,
    sealed {blob} NOT NULL,
    created_at {bigint} NOT NULL
);
CREATE INDEX IF NOT EXISTS vr_vault_digest_key ON vr_vault (digest_key);
CREATE INDEX IF NOT EXISTS vr_vault_seal_key ON vr_vault (seal_key);
CREATE INDEX IF NOT EXISTS vr_vault_seal_created ON vr_vault (seal_key, created_at)
"""
_KINDS = ("doc", "user")


@dataclass(frozen=True, slots=True)
class VaultEntry:
    """One identity to keep: its digest, what kind of identifier it is, and the real value."""

    digest: str
    kind: str
    value: str


class IdentityVault:
    """Encrypted digest → identity store.

    >>> from vectorrouter.compliance.keys import KeyedIds
    >>> ring = Keyring({"k1": b"k" * 32}); ids = KeyedIds(ring)
    >>> vault = IdentityVault(Database.connect(None), ring)
    >>> d = ids.doc("acme", "invoice-7.pdf")
    >>> vault.put([VaultEntry(d, "doc", "invoice-7.pdf")])
    >>> vault.reveal([d])[d]
    'invoice-7.pdf'
    >>> vault.forget([d]), vault.reveal([d])
    (1, {})
    """

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        db.script(_DDL)
        self._checked_key = ""  # the active key whose secret was checked against the stored rows

    def _seal(self, entry: VaultEntry) -> tuple[str, str, str, str, bytes, bytes, int]:
        parts = split_digest(entry.digest)
        if parts is None:
            raise InvalidRecord(
                f"vault entries are keyed digests ('<key id>:<64 hex>'), got {entry.digest!r}"
            )
        if entry.kind not in _KINDS:
            raise InvalidRecord(f"vault entry kind must be one of {_KINDS}, got {entry.kind!r}")
        kid = self.keyring.active.key_id
        nonce = os.urandom(12)
        aad = f"{entry.kind}|{entry.digest}".encode()
        sealed = AESGCM(self.keyring.derived(kid, "vault")).encrypt(nonce, entry.value.encode("utf-8"), aad)
        return (entry.digest, entry.kind, parts[0], kid, nonce, sealed, time.time_ns() // 1000)

    def _open(self, digest: str, kind: str, seal_key: str, nonce: bytes, sealed: bytes) -> str:
        aad = f"{kind}|{digest}".encode()
        try:
            plain = AESGCM(self.keyring.derived(seal_key, "vault")).decrypt(bytes(nonce), bytes(sealed), aad)
        except InvalidTag:
            raise IntegrityError(
                f"vault row {digest[:12]}… does not decrypt: it was altered, moved from another row, "
                f"or key {seal_key!r} has a different secret than when it was written"
            ) from None
        return plain.decode("utf-8")

    def _wrong_secret(self, kid: str) -> ConfigurationError:
        return ConfigurationError(
            f"key {kid!r} has a different secret than when the stored data was written (the "
            f"{self.count(seal_key=kid)} identities sealed under it do not open with it, unless "
            "those rows were altered): identifiers derived with it match nothing stored, so "
            "nothing can be looked up, written or erased",
            field="compliance.keys",
            fix=f"give {kid!r} back the secret the data was written with. To change secrets, "
            f"put a new key id first and keep {kid!r} with its old secret "
            f"('<new id>=<new secret>,{kid}=<old secret>'); never give a key id a new secret",
        )

    def _check_active_key(self) -> None:
        """Before this vault's first write under the active key: the newest row already sealed under that key
        id must open, or the configured secret is not the one the data was written with (writing on would
        mix two secrets under one key id, and the new rows could never be read once the secret is fixed)."""
        kid = self.keyring.active.key_id
        if kid == self._checked_key:
            return
        self._opens(kid, "DESC")
        self._checked_key = kid

    def _opens(self, kid: str, order: str) -> None:
        """The oldest (``ASC``) or newest (``DESC``) row sealed under ``kid`` opens with the keyring's secret for
        it, or :meth:`_wrong_secret`. Nothing to check when no row is sealed under ``kid`` (or another process
        just erased the last of them)."""
        rows = self.db.query(
            "SELECT digest, kind, seal_key, nonce, sealed FROM vr_vault WHERE seal_key = ? "
            f"ORDER BY created_at {order}, digest {order} LIMIT 1",
            (kid,),
        )
        try:
            for row in rows:
                self._open(*row)
        except IntegrityError as exc:
            raise self._wrong_secret(kid) from exc

    def put(self, entries: Iterable[VaultEntry]) -> None:
        """Store identities; a digest already present is left as it is (same digest, same identity)."""
        rows = [self._seal(e) for e in entries]
        if rows:
            self._check_active_key()
        self.db.executemany(
            "INSERT INTO vr_vault VALUES (?,?,?,?,?,?,?) ON CONFLICT (digest) DO NOTHING",
            rows,
        )

    def existing(self, digests: Sequence[str]) -> set[str]:
        """Which of ``digests`` the vault holds (no decryption)."""
        rows = self.db.query_in(
            "SELECT digest FROM vr_vault WHERE digest IN ({in})", list(dict.fromkeys(digests))
        )
        return {r[0] for r in rows}

    def reveal(self, digests: Sequence[str]) -> dict[str, str]:
        """Digest → real identity for the digests the vault holds; unknown digests are left out."""
        rows = self.db.query_in(
            "SELECT digest, kind, seal_key, nonce, sealed FROM vr_vault WHERE digest IN ({in})",
            list(dict.fromkeys(digests)),
        )
        return {r[0]: self._open(*r) for r in rows}

    def forget(self, digests: Sequence[str]) -> int:
        """Delete these identities; returns how many rows went."""
        return self.db.execute_in("DELETE FROM vr_vault WHERE digest IN ({in})", list(dict.fromkeys(digests)))

    def check_keys(self) -> None:
        """Fail unless every key the stored identities were written under is live with the same secret.

        Lookups and erasure derive a user's identifiers from the keyring: with a key missing, or a key id
        whose secret differs from the one the data was written with, they find nothing, which reads like
        "nothing stored". This opens the oldest and newest row sealed under each key with the check every
        read makes (:meth:`reveal`; AES-GCM never opens a row under the wrong secret), and names the key.

        >>> db = Database.connect(None)
        >>> IdentityVault(db, Keyring({"k1": b"a" * 32})).put([VaultEntry("k1:" + "0" * 64, "user", "u")])
        >>> IdentityVault(db, Keyring({"k1": b"a" * 32})).check_keys()
        >>> IdentityVault(db, Keyring({"k1": b"b" * 32})).check_keys()
        Traceback (most recent call last):
        ...
        vectorrouter.errors.ConfigurationError: compliance.keys: key 'k1' has a different secret than ...
        """
        digest_keys = [r[0] for r in self.db.query("SELECT DISTINCT digest_key FROM vr_vault")]
        seal_keys = [r[0] for r in self.db.query("SELECT DISTINCT seal_key FROM vr_vault")]
        for kid in sorted({*digest_keys, *seal_keys}):
            self.keyring.get(kid)  # a key retired or left out while data under it is stored: refuse
        for kid in sorted(seal_keys):
            for order in ("ASC", "DESC"):
                self._opens(kid, order)

    def count(self, *, digest_key: str | None = None, seal_key: str | None = None) -> int:
        sql, params = "SELECT COUNT(*) FROM vr_vault WHERE 1=1", []
        if digest_key is not None:
            sql += " AND digest_key = ?"
            params.append(digest_key)
        if seal_key is not None:
            sql += " AND seal_key = ?"
            params.append(seal_key)
        return int(self.db.query(sql, params)[0][0])

    def reseal(self, old_key: str, *, batch: int = 500) -> int:
        """Re-encrypt every row sealed under ``old_key`` with the active key; returns how many rows moved."""
        moved = 0
        while True:
            rows = self.db.query(
                "SELECT digest, kind, seal_key, nonce, sealed FROM vr_vault WHERE seal_key = ? LIMIT ?",
                (old_key, batch),
            )
            if not rows or old_key == self.keyring.active.key_id:
                return moved
            with self.db.transaction():
                for digest, kind, seal_key, nonce, sealed in rows:
                    value = self._open(digest, kind, seal_key, nonce, sealed)
                    _, _, _, kid, n2, s2, _ = self._seal(VaultEntry(digest, kind, value))
                    self.db.execute(
                        "UPDATE vr_vault SET seal_key = ?, nonce = ?, sealed = ? WHERE digest = ?",
                        (kid, n2, s2, digest),
                    )
            moved += len(rows)
