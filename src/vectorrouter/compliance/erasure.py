"""Right to erasure: ``forget(user_id)`` over every *place* holding user data, verified, resumable, audited.

A place is anything that can erase a user's data and then count what is left of it: one namespace of each
vector and keyword store, the result cache, the embedding cache, the ingest queue and its dead-letter
queue, the identity vault. Places come from *providers*
registered on the :class:`Eraser`; each provider decides which of its places a target touches.

One erasure is a persisted *job*: which places are done, with their counts. A crash in the middle leaves
the job running; the next ``forget`` of the same user resumes it and skips the places already done. Once
every place is erased, each is searched again for residue; only a clean verification removes the user's
rows from the erasure index and closes the job. Every step lands in the audit log, by digest only.

A place that cannot be reached (its store is down) is reported with the error and makes the report
unverified; the other places are still erased, and a later ``forget`` finishes the job.

A keyring that does not match the stored data (a key id given another secret, a key left out) is refused
before anything is erased: the user's digests would find nothing, and nothing found would read as verified.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vectorrouter.compliance._db import Database
from vectorrouter.compliance.audit import AuditLog
from vectorrouter.compliance.index import ErasureIndex
from vectorrouter.compliance.keys import KeyedIds
from vectorrouter.compliance.vault import IdentityVault
from vectorrouter.errors import BackendError, InvalidRecord
from vectorrouter.filters import Filter, In, Or

__all__ = [
    "Eraser",
    "ErasurePlace",
    "ErasureReport",
    "ErasureTarget",
    "HoldsRecords",
    "PlaceProvider",
    "PlaceReport",
]

_DDL = """
CREATE TABLE IF NOT EXISTS vr_erasure_jobs (
    job_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    started_us {bigint} NOT NULL,
    finished_us {bigint}
);
CREATE TABLE IF NOT EXISTS vr_erasure_steps (
    job_id TEXT NOT NULL,
    place TEXT NOT NULL,
    found {bigint} NOT NULL,
    deleted {bigint} NOT NULL,
    PRIMARY KEY (job_id, place)
)
"""


@dataclass(frozen=True, slots=True)
class ErasureTarget:
    """Everything a place needs to find one user's data, in stored (digest) form only."""

    #: The user's digest under every live key, active key first.
    user_digests: tuple[str, ...]
    #: Metadata fields that hold user references.
    user_fields: tuple[str, ...]
    #: Stored record ids per versioned namespace, from the erasure index.
    records: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``(text digest, embedding-cache key)`` of the user's texts, from the embedding trail.
    cache_keys: tuple[tuple[str, str], ...] = ()

    @property
    def subject(self) -> str:
        return self.user_digests[0]

    def filter(self) -> Filter:
        """Matches any record whose user-reference field holds one of the user's digests."""
        parts = [In(f, self.user_digests) for f in self.user_fields]
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(rid for ids in self.records.values() for rid in ids))

    def owns(self, metadata: Mapping[str, object]) -> bool:
        """True when a record's metadata names this user in a user-reference field (as :meth:`filter`)."""
        return any(metadata.get(f) in self.user_digests for f in self.user_fields)


class ErasurePlace(Protocol):
    """One place holding user data. ``name`` must be stable across processes (jobs resume by it)."""

    name: str

    def erase(self, target: ErasureTarget) -> int:
        """Delete the target's data here; returns how many items went. Must be idempotent."""

    def residue(self, target: ErasureTarget) -> int:
        """Search this place for the target's data and count what is left (0 after a good erase)."""


@runtime_checkable
class HoldsRecords(Protocol):
    """A place that can tell which indexed records it still holds (they now belong to someone else)."""

    def present(self, target: ErasureTarget) -> set[str]: ...


class PlaceProvider(Protocol):
    """Yields the places a target may have reached (a store per namespace, a cache, a queue…)."""

    def places(self, target: ErasureTarget) -> Iterable[ErasurePlace]: ...


@dataclass(frozen=True, slots=True)
class PlaceReport:
    place: str
    found: int
    deleted: int
    residue: int
    #: True when this place was erased by an earlier, interrupted run of the same job.
    resumed: bool = False
    #: Why the place could not be erased or checked (its store was down); such a place is not verified.
    error: str = ""


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What ``forget`` did, per place. ``ok`` means every place was searched again and held nothing."""

    job_id: str
    subject: str
    places: list[PlaceReport]
    seconds: float
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return all(p.residue == 0 and not p.error for p in self.places)

    @property
    def deleted(self) -> int:
        return sum(p.deleted for p in self.places)

    def summary(self) -> str:
        width = max([len(p.place) for p in self.places] + [5])
        lines = [f"{'place':<{width}}  {'found':>7}  {'deleted':>7}  {'residue':>7}"]
        lines += [
            f"{p.place:<{width}}  {p.found:>7}  {p.deleted:>7}  {'?' if p.error else p.residue:>7}"
            f"{'  (earlier run)' if p.resumed else ''}{f'  UNREACHABLE: {p.error}' if p.error else ''}"
            for p in self.places
        ]
        verdict = "verified: nothing left" if self.ok else "RESIDUE FOUND"
        lines.append(
            f"{self.deleted} item(s) erased from {len(self.places)} place(s) in {self.seconds:.2f}s; {verdict}"
        )
        return "\n".join(lines)


class _VaultPlace:
    """The identity vault as a place: the user's identity and the identities of their records."""

    name = "vault"

    def __init__(self, vault: IdentityVault, keep: set[str]) -> None:
        self.vault = vault
        self.keep = keep

    def _digests(self, target: ErasureTarget) -> list[str]:
        # a record id still stored somewhere belongs to another user now: keep its identity
        return [*target.user_digests, *(r for r in target.record_ids() if r not in self.keep)]

    def erase(self, target: ErasureTarget) -> int:
        return self.vault.forget(self._digests(target))

    def residue(self, target: ErasureTarget) -> int:
        return len(self.vault.existing(self._digests(target)))


class _Jobs:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(_DDL)

    def running(self, subjects: Sequence[str]) -> str | None:
        rows = self.db.query_in(
            "SELECT job_id FROM vr_erasure_jobs WHERE status = ? AND subject IN ({in}) ORDER BY started_us",
            list(subjects),
            ("running",),
        )
        return rows[0][0] if rows else None

    def start(self, subject: str) -> str:
        job_id = uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO vr_erasure_jobs VALUES (?,?,?,?,NULL)",
            (job_id, subject, "running", time.time_ns() // 1000),
        )
        return job_id

    def done_steps(self, job_id: str) -> dict[str, tuple[int, int]]:
        rows = self.db.query("SELECT place, found, deleted FROM vr_erasure_steps WHERE job_id = ?", (job_id,))
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def step(self, job_id: str, place: str, found: int, deleted: int) -> None:
        self.db.execute(
            "INSERT INTO vr_erasure_steps VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            (job_id, place, found, deleted),
        )

    def finish(self, job_id: str, status: str) -> None:
        self.db.execute(
            "UPDATE vr_erasure_jobs SET status = ?, finished_us = ? WHERE job_id = ?",
            (status, time.time_ns() // 1000, job_id),
        )


class Eraser:
    """Runs ``forget`` jobs over the registered place providers.

    >>> from vectorrouter.compliance.keys import Keyring
    >>> db = Database.connect(None); ring = Keyring({"k1": b"k" * 32})
    >>> eraser = Eraser(KeyedIds(ring), ErasureIndex(db), IdentityVault(db, ring), AuditLog(db), db)
    >>> report = eraser.forget("alice@example.com")     # nothing stored yet: nothing to erase
    >>> report.ok, report.deleted, [p.place for p in report.places]
    (True, 0, ['vault'])
    """

    def __init__(
        self,
        ids: KeyedIds,
        index: ErasureIndex,
        vault: IdentityVault,
        audit: AuditLog,
        db: Database,
        *,
        providers: Iterable[PlaceProvider] = (),
        user_fields: Sequence[str] = ("user_id",),
    ) -> None:
        self.ids = ids
        self.index = index
        self.vault = vault
        self.audit = audit
        self.jobs = _Jobs(db)
        self.providers: list[PlaceProvider] = list(providers)
        self.user_fields = tuple(user_fields)

    def register(self, provider: PlaceProvider) -> None:
        """Add a provider of places (the result cache, the embedding caches, the ingest queue and DLQ…)."""
        self.providers.append(provider)

    def target(self, user_id: str) -> ErasureTarget:
        if not isinstance(user_id, str) or not user_id:
            raise InvalidRecord(f"forget needs the user's id as a non-empty string, got {user_id!r}")
        digests = tuple(self.ids.user_all(user_id))
        records = {ns: tuple(ids) for ns, ids in self.index.where(digests).items()}
        return ErasureTarget(digests, self.user_fields, records, tuple(self.index.texts(digests)))

    def __call__(self, user_id: str) -> ErasureReport:
        return self.forget(user_id)

    def forget(self, user_id: str) -> ErasureReport:
        """Erase ``user_id`` everywhere, verify nothing is left, and report per place. Idempotent.

        Refused with :class:`~vectorrouter.errors.ConfigurationError` before anything is erased or audited
        when the keyring cannot find what is stored (a key left out, or a key id given another secret than
        the one the data was written with): the user's digests would match nothing, and an empty erasure
        would be reported as verified.
        """
        started = time.perf_counter()
        target = self.target(user_id)
        self.vault.check_keys()
        job_id = self.jobs.running(target.user_digests)
        resumed = job_id is not None
        if job_id is None:
            job_id = self.jobs.start(target.subject)
        done = self.jobs.done_steps(job_id)
        earlier = set(done)
        self.audit.append(
            "erasure.resumed" if resumed else "erasure.started",
            target.subject,
            {"job": job_id, "namespaces": len(target.records), "records": len(target.record_ids())},
        )
        places = [p for prov in self.providers for p in prov.places(target)]
        errors: dict[str, str] = {}
        for place in places:
            if place.name not in done:
                try:
                    found = place.residue(target)
                    deleted = place.erase(target)
                except BackendError as exc:  # the others are still erased; this one stays unverified
                    errors[place.name] = str(exc)
                    continue
                self._step(job_id, place.name, found, deleted, target.subject)
                done[place.name] = (found, deleted)
        keep: set[str] = set()
        for p in places:
            if isinstance(p, HoldsRecords):
                try:
                    keep |= p.present(target)
                except BackendError:  # cannot tell which records another user now owns: keep them all
                    keep |= set(target.record_ids())
        vault = _VaultPlace(self.vault, keep)
        if vault.name not in done:
            found = vault.residue(target)
            done[vault.name] = (found, vault.erase(target))
            self._step(job_id, vault.name, *done[vault.name], target.subject)
        reports = [self._verify(p, target, done, errors, p.name in earlier) for p in [*places, vault]]
        report = ErasureReport(job_id, target.subject, reports, time.perf_counter() - started, resumed)
        if report.ok:
            self.index.remove(target.user_digests)
        self.jobs.finish(job_id, "verified" if report.ok else "residue")
        self.audit.append(
            "erasure.verified" if report.ok else "erasure.residue",
            target.subject,
            {
                "job": job_id,
                "places": len(reports),
                "deleted": report.deleted,
                "residue": sum(p.residue for p in reports),
                "residue_places": [p.place for p in reports if p.residue or p.error],
            },
        )
        return report

    @staticmethod
    def _verify(
        place: ErasurePlace,
        target: ErasureTarget,
        done: Mapping[str, tuple[int, int]],
        errors: dict[str, str],
        resumed: bool,
    ) -> PlaceReport:
        found, deleted = done.get(place.name, (0, 0))
        if place.name in errors:
            return PlaceReport(place.name, found, deleted, 0, resumed, errors[place.name])
        try:
            return PlaceReport(place.name, found, deleted, place.residue(target), resumed)
        except BackendError as exc:
            return PlaceReport(place.name, found, deleted, 0, resumed, f"residue check failed: {exc}")

    def _step(self, job_id: str, place: str, found: int, deleted: int, subject: str) -> None:
        self.jobs.step(job_id, place, found, deleted)
        if found or deleted:
            self.audit.append(
                "erasure.place", subject, {"job": job_id, "place": place, "found": found, "deleted": deleted}
            )
