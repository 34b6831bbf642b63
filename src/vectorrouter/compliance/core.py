"""The compliance layer as one object: build the pieces over one database and attach them to a router."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vectorrouter.compliance._db import Database
from vectorrouter.compliance.allowlist import MetadataAllowlist
from vectorrouter.compliance.audit import AuditLog
from vectorrouter.compliance.caches import CachePlaces, EmbeddingTrail
from vectorrouter.compliance.erasure import Eraser, ErasureReport
from vectorrouter.compliance.identity import KeyedIdHook, VaultIds
from vectorrouter.compliance.index import ErasureIndex
from vectorrouter.compliance.keys import KeyedIds, Keyring
from vectorrouter.compliance.pii import PiiScrubber
from vectorrouter.compliance.places import RouterStores
from vectorrouter.compliance.queues import QueuePlaces
from vectorrouter.compliance.residency import ResidencyGate, ResidencyHook, ResidencyPolicy
from vectorrouter.compliance.vault import IdentityVault
from vectorrouter.errors import ConfigurationError
from vectorrouter.hooks import IngestHook

if TYPE_CHECKING:
    from vectorrouter.embeddings import EmbeddingService
    from vectorrouter.router import Router

__all__ = ["Compliance"]


class Compliance:
    """Keyed ids, vault, allowlist, PII scrubber, residency check, audit log and erasure, wired together.

    The ingest pipeline it installs runs, in order: residency check → metadata allowlist → PII scrub →
    keyed identifiers (which also writes the vault and the erasure index) → embedding trail. The fields
    named in ``user_fields`` hold user references: they are always allowed, never scrubbed, and stored as
    digests. With a residency policy, the router's ladder also gets a :class:`ResidencyGate`: every search,
    read and write of a region's namespace stays on that region's stores, fallbacks included.

    ``forget`` visits, in order: the ingest queue and its dead-letter queue, the result caches, the embedding
    cache, every namespace of every vector and keyword store, and the identity vault.

    >>> from vectorrouter import Router
    >>> from vectorrouter.embeddings import TEST_MODEL
    >>> from vectorrouter.backends import NumpyBackend
    >>> from vectorrouter.embeddings import EmbeddingService
    >>> from vectorrouter.compliance import Keyring, MetadataAllowlist, NamespacePolicy
    >>> router = Router(embeddings=EmbeddingService([TEST_MODEL]), vector_factory=NumpyBackend)
    >>> compliance = Compliance(
    ...     keyring=Keyring({"k1": b"0123456789abcdef0123456789abcdef"}),
    ...     allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang"})}),
    ... ).attach(router)
    >>> _ = router.ingest("acme:docs", [{"id": "a.pdf", "text": "hello", "metadata": {"user_id": "u-7"}}])
    >>> router.search("acme:docs", "hello", k=1).hits[0].id       # the caller's own id comes back
    'a.pdf'
    >>> router.forget("u-7").ok
    True
    >>> compliance.close(); router.close()
    """

    def __init__(
        self,
        *,
        keyring: Keyring,
        allowlist: MetadataAllowlist,
        database: str | Path | Database | None = None,
        schema: str | None = None,
        scrubber: PiiScrubber | None = None,
        residency: ResidencyPolicy | None = None,
        user_fields: Sequence[str] = ("user_id",),
        audit_key: bytes | None = None,
        sweep: bool = True,
    ) -> None:
        if not user_fields:
            raise ConfigurationError(
                "at least one user-reference field is needed",
                field="compliance.user_fields",
                fix='e.g. ["user_id"]',
            )
        self.db = database if isinstance(database, Database) else Database.connect(database, schema=schema)
        self.keyring = keyring
        self.user_fields = tuple(user_fields)
        self.ids = KeyedIds(keyring)
        self.vault = IdentityVault(self.db, keyring)
        self.index = ErasureIndex(self.db)
        self.audit = AuditLog(self.db, key=audit_key)
        self.residency = residency
        managed = [*self.user_fields, *([residency.field] if residency else [])]
        self.allowlist = allowlist.with_always(managed)
        self.scrubber = scrubber
        if scrubber is not None:
            scrubber.skip_fields = scrubber.skip_fields | set(self.user_fields)
        self.codec = VaultIds(self.ids, self.vault, self.user_fields)
        self.eraser = Eraser(
            self.ids, self.index, self.vault, self.audit, self.db, user_fields=self.user_fields
        )
        self.sweep = sweep

    def hooks(self, embeddings: EmbeddingService | None = None) -> list[IngestHook]:
        """The ordered ingest pipeline (see the class docstring)."""
        out: list[IngestHook] = []
        if self.residency is not None:
            out.append(ResidencyHook(self.residency))
        out.append(self.allowlist)
        if self.scrubber is not None:
            out.append(self.scrubber)
        out.append(KeyedIdHook(self.ids, self.vault, self.index, self.user_fields))
        if embeddings is not None:
            out.append(EmbeddingTrail(embeddings, self.index, self.user_fields))
        return out

    def attach(self, router: Router) -> Compliance:
        """Install the pipeline in ``router.hooks``, the id codec and ``router.forget``; returns ``self``."""
        if router.eraser is not None:
            raise ConfigurationError(
                "this router already has a compliance layer attached", field="compliance"
            )
        if self.residency is not None:
            gate = ResidencyGate(self.residency, self.audit)
            gate.check_ladder(router.ladder)  # every store's regions declared, or fail now
            router.ladder.install_gate(gate)
        router.hooks.extend(self.hooks(router.embeddings))
        router.id_codec = self.codec
        router.eraser = self.eraser
        # queues first (nothing queued may land after its store was erased), caches before the stores (whose
        # erasure invalidates them) so the report shows what each cache held
        self.eraser.register(QueuePlaces(router))
        self.eraser.register(CachePlaces(router))
        self.eraser.register(RouterStores(router, sweep=self.sweep))
        return self

    def forget(self, user_id: str) -> ErasureReport:
        return self.eraser.forget(user_id)

    def rotate_key(self, key_id: str, secret: str | bytes) -> None:
        """Make a new key active. Digests under older keys keep working until those keys are retired."""
        self.keyring.rotate(key_id, secret)
        self.audit.append("key.rotated", key_id, {"active": key_id, "live": self.keyring.ids})

    def retire_key(self, key_id: str) -> None:
        """Drop an old key once nothing depends on it: vault rows are re-sealed, digests must be re-keyed."""
        under = self.vault.count(digest_key=key_id)
        if under:
            raise ConfigurationError(
                f"{under} stored identities are still keyed with {key_id!r}; retiring it would make their "
                "data unfindable by forget and get",
                field="compliance.keys",
                fix="keep the key live (lookups use every live key) until a re-key job has moved that data",
            )
        resealed = self.vault.reseal(key_id)
        self.keyring.retire(key_id)
        self.audit.append("key.retired", key_id, {"resealed": resealed, "live": self.keyring.ids})

    def close(self) -> None:
        self.db.close()
