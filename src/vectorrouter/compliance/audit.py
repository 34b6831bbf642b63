"""A tamper-evident audit log: append-only, hash-chained, in SQLite or PostgreSQL.

Every entry carries the digest of the entry before it, and its own digest covers its sequence number,
time, action, subject, details and that previous digest. :meth:`AuditLog.verify` recomputes the chain, so
an edited, removed or reordered entry breaks it at that point. Two limits, stated plainly:

- Whoever can rewrite the whole table *and* recompute every later digest can forge a consistent chain.
  Give the log a secret ``key`` (the digests become HMAC-SHA256) so that recomputing needs the secret, and/or
  keep the :meth:`AuditLog.head` somewhere else and pass it back as ``anchor`` when verifying.
- Removing the newest entries leaves a shorter, valid chain; only an ``anchor`` detects that.

Entries hold digests and counts, never raw identities: callers pass keyed digests as subjects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vectorrouter.compliance._db import Database
from vectorrouter.errors import InvalidRecord

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditHead",
    "AuditLog",
    "AuditProblem",
    "AuditVerification",
    "verify_log",
]

GENESIS = "0" * 64
_DDL = """
CREATE TABLE IF NOT EXISTS vr_audit (
    seq {bigint} PRIMARY KEY,
    ts_us {bigint} NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    prev TEXT NOT NULL,
    digest TEXT NOT NULL
)
"""
DetailValue = str | int | float | bool | None | list[str] | list[int]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts_us: int
    action: str
    subject: str
    details_json: str
    prev: str
    digest: str

    @property
    def details(self) -> dict[str, Any]:
        return json.loads(self.details_json)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The newest entry's position and digest: keep it outside the database to detect truncation."""

    seq: int
    digest: str


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    kind: Literal["edited", "broken_link", "missing", "bad_start", "anchor"]
    detail: str


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """What :meth:`AuditLog.verify` found. ``ok`` is true only when no problem was found."""

    entries: int
    head: AuditHead | None
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            head = f"head #{self.head.seq} {self.head.digest[:16]}…" if self.head else "empty log"
            return f"audit log OK: {self.entries} entries, chain intact ({head})"
        lines = [f"audit log BROKEN: {len(self.problems)} problem(s) in {self.entries} entries"]
        lines += [f"  #{p.seq}: {p.kind}: {p.detail}" for p in self.problems]
        return "\n".join(lines)


def _body(seq: int, ts_us: int, action: str, subject: str, details: str, prev: str) -> bytes:
    return json.dumps([seq, ts_us, action, subject, details, prev], separators=(",", ":")).encode("utf-8")


def _check_details(details: Mapping[str, Any]) -> str:
    for k, v in details.items():
        ok = v is None or isinstance(v, str | int | float | bool)
        ok = ok or (isinstance(v, list) and all(isinstance(x, str | int) for x in v))
        if not isinstance(k, str) or not ok:
            raise InvalidRecord(f"audit detail {k!r} must map a string to a scalar or a list of str/int")
    return json.dumps(dict(details), sort_keys=True, separators=(",", ":"))


class AuditLog:
    """Append-only, hash-chained log.

    >>> log = AuditLog(Database.connect(None))
    >>> e = log.append("erasure.completed", "k1:" + "ab" * 32, {"deleted": 12, "verified": True})
    >>> e.seq, e.prev == GENESIS
    (1, True)
    >>> log.verify().ok
    True
    """

    def __init__(self, db: Database, *, key: bytes | None = None) -> None:
        self.db = db
        self._key = key
        db.script(_DDL)

    def _digest(self, body: bytes) -> str:
        if self._key is not None:
            return hmac.new(self._key, body, hashlib.sha256).hexdigest()
        return hashlib.sha256(body).hexdigest()

    def append(self, action: str, subject: str, details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Add one entry at the end of the chain (serialised across processes by a table lock)."""
        if not action or not isinstance(action, str):
            raise InvalidRecord("audit action must be a non-empty string such as 'erasure.completed'")
        payload = _check_details(details or {})
        with self.db.transaction(lock_table="vr_audit"):
            last = self.db.query("SELECT seq, digest FROM vr_audit ORDER BY seq DESC LIMIT 1")
            seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
            ts_us = time.time_ns() // 1000
            digest = self._digest(_body(seq, ts_us, action, subject, payload, prev))
            self.db.execute(
                "INSERT INTO vr_audit VALUES (?,?,?,?,?,?,?)",
                (seq, ts_us, action, subject, payload, prev, digest),
            )
        return AuditEntry(seq, ts_us, action, subject, payload, prev, digest)

    def entries(self, *, after: int = 0, batch: int = 1000) -> Iterator[AuditEntry]:
        """Every entry in sequence order (paged, so a long log is never loaded whole)."""
        cursor = after
        while True:
            rows = self.db.query(
                "SELECT seq, ts_us, action, subject, details, prev, digest FROM vr_audit "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (cursor, batch),
            )
            for seq, ts_us, action, subject, details, prev, digest in rows:
                yield AuditEntry(int(seq), int(ts_us), action, subject, details, prev, digest)
            if len(rows) < batch:
                return
            cursor = int(rows[-1][0])

    def head(self) -> AuditHead | None:
        rows = self.db.query("SELECT seq, digest FROM vr_audit ORDER BY seq DESC LIMIT 1")
        return AuditHead(int(rows[0][0]), rows[0][1]) if rows else None

    def verify(self, *, anchor: AuditHead | None = None) -> AuditVerification:
        """Recompute the chain; report every entry that was edited, removed or moved."""
        problems: list[AuditProblem] = []
        expected_seq, prev_digest, count = 1, GENESIS, 0
        seen: dict[int, str] = {}
        last: AuditEntry | None = None
        for e in self.entries():
            count += 1
            if count == 1 and e.seq != 1:
                problems.append(AuditProblem(e.seq, "bad_start", f"the log starts at #{e.seq}, not #1"))
            elif e.seq != expected_seq:
                problems.append(
                    AuditProblem(e.seq, "missing", f"entries #{expected_seq}..#{e.seq - 1} are gone")
                )
            if e.prev != prev_digest:
                problems.append(
                    AuditProblem(
                        e.seq, "broken_link", "its previous-digest does not match the entry before it"
                    )
                )
            body = _body(e.seq, e.ts_us, e.action, e.subject, e.details_json, e.prev)
            if not hmac.compare_digest(self._digest(body), e.digest):
                problems.append(AuditProblem(e.seq, "edited", "its content does not match its digest"))
            if anchor is not None and e.seq == anchor.seq:
                seen[e.seq] = e.digest
            expected_seq, prev_digest, last = e.seq + 1, e.digest, e
        if anchor is not None and seen.get(anchor.seq) != anchor.digest:
            what = "is missing" if anchor.seq not in seen else "has a different digest"
            problems.append(AuditProblem(anchor.seq, "anchor", f"the anchored entry {what}"))
        head = AuditHead(last.seq, last.digest) if last else None
        return AuditVerification(count, head, problems)


def verify_log(
    database: str | Path | None,
    *,
    schema: str | None = None,
    key: bytes | None = None,
    anchor: AuditHead | None = None,
) -> AuditVerification:
    """What ``vectorrouter audit verify`` calls: open the log at ``database`` and verify its chain.

    ``database`` is a SQLite path / ``sqlite:///path`` or a ``postgresql://`` URL (with ``schema``).
    """
    db = Database.connect(database, schema=schema)
    try:
        return AuditLog(db, key=key).verify(anchor=anchor)
    finally:
        db.close()
