"""Keyed identifiers on the ingest path, and the codec that gives callers their own ids back.

The reverse mapping goes through the :class:`~vectorrouter.compliance.vault.IdentityVault`, not through an
encrypted field stored beside each record. Why: a stored ciphertext would copy the identity into every
store, tier, cache and backup the record reaches, each of which erasure would then have to find and
rewrite, and re-keying would mean rewriting every record. With the vault the stores hold only digests;
deleting one vault row makes every leftover copy of that digest unlinkable. The cost is one batched vault
lookup per search or get, which SQLite answers in process and PostgreSQL in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from vectorrouter.compliance.index import ErasureIndex
from vectorrouter.compliance.keys import KeyedIds
from vectorrouter.compliance.vault import IdentityVault, VaultEntry
from vectorrouter.errors import InvalidFilter, InvalidRecord
from vectorrouter.filters import And, Eq, Filter, In, Ne, Nin, Not, Or
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Namespace, Record

__all__ = ["KeyedIdHook", "VaultIds"]


def _stable(candidates: list[str], known: set[str]) -> str:
    """The digest already in use under any live key (so ids survive a rotation), else the active one."""
    return next((d for d in candidates if d in known), candidates[0])


class KeyedIdHook:
    """Ingest hook: record ids and user references become keyed digests; identities go to the vault.

    Also writes the erasure index (user digest → namespace, record id) before any store is written.
    Must run after the allowlist and the PII scrubber (the pipeline's last step).
    """

    def __init__(
        self,
        ids: KeyedIds,
        vault: IdentityVault,
        index: ErasureIndex,
        user_fields: Sequence[str] = ("user_id",),
    ) -> None:
        self.ids = ids
        self.vault = vault
        self.index = index
        self.user_fields = tuple(user_fields)

    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]:
        tenant = ctx.namespace.tenant
        doc_cands = {r.id: self.ids.doc_all(tenant, r.id) for r in records}
        users = {
            v for r in records for f in self.user_fields if isinstance(v := r.metadata.get(f), str) and v
        }
        for r in records:
            for f in self.user_fields:
                v = r.metadata.get(f)
                if v is not None and not (isinstance(v, str) and v):
                    raise InvalidRecord(
                        f"record {r.id!r}: metadata[{f!r}] is a user reference and must be a non-empty string"
                    )
        user_cands = {u: self.ids.user_all(u) for u in users}
        known = self.vault.existing(
            [d for c in doc_cands.values() for d in c] + [d for c in user_cands.values() for d in c]
        )
        doc_digest = {rid: _stable(c, known) for rid, c in doc_cands.items()}
        user_digest = {u: _stable(c, known) for u, c in user_cands.items()}
        entries = [VaultEntry(d, "doc", rid) for rid, d in doc_digest.items() if d not in known]
        entries += [VaultEntry(d, "user", u) for u, d in user_digest.items() if d not in known]
        self.vault.put(entries)
        out: list[Record] = []
        index_rows: list[tuple[str, str, str]] = []
        for r in records:
            md = dict(r.metadata)
            for f in self.user_fields:
                if isinstance(md.get(f), str):
                    md[f] = user_digest[md[f]]  # type: ignore[index]
                    index_rows.append((md[f], str(ctx.namespace), doc_digest[r.id]))  # type: ignore[arg-type]
            out.append(Record(id=doc_digest[r.id], text=r.text, metadata=md, vector=r.vector))
        self.index.add(index_rows)
        return out


class VaultIds:
    """The router's id codec under keyed identifiers (see :class:`vectorrouter.hooks.IdCodec`).

    Callers' ids become stored digests on ``get``/``delete``; stored digests become callers' ids on every
    hit and record returned; filters on user-reference fields are rewritten to match their digests under
    every live key (so data written before a rotation is still found).
    """

    def __init__(
        self, ids: KeyedIds, vault: IdentityVault, user_fields: Sequence[str] = ("user_id",)
    ) -> None:
        self.ids = ids
        self.vault = vault
        self.user_fields = frozenset(user_fields)

    def to_stored(self, namespace: Namespace, ids: Sequence[str]) -> list[str]:
        cands = [self.ids.doc_all(namespace.tenant, i) for i in ids]
        known = self.vault.existing([d for c in cands for d in c])
        return [_stable(c, known) for c in cands]

    def to_caller(self, namespace: Namespace, ids: Sequence[str]) -> list[str]:
        # ids the vault does not know (written before keyed ids were enabled) are returned as they are
        revealed = self.vault.reveal(list(ids))
        return [revealed.get(i, i) for i in ids]

    def stored_filter(self, namespace: Namespace, filter: Filter | None) -> Filter | None:
        return None if filter is None else self._rewrite(filter)

    def _digests(self, values: Sequence[object], field: str) -> tuple[str, ...]:
        out: list[str] = []
        for v in values:
            if not isinstance(v, str):
                raise InvalidFilter(f"filter on {field!r}: user references are strings, got {v!r}")
            out += self.ids.user_all(v)
        return tuple(out)

    def _rewrite(self, f: Filter) -> Filter:
        if isinstance(f, And):
            return And(tuple(self._rewrite(c) for c in f.filters))
        if isinstance(f, Or):
            return Or(tuple(self._rewrite(c) for c in f.filters))
        if isinstance(f, Not):
            return Not(self._rewrite(f.filter))
        field = getattr(f, "field", None)
        if field not in self.user_fields:
            return f
        if isinstance(f, Eq):
            return In(f.field, self._digests([f.value], f.field))
        if isinstance(f, Ne):
            return Nin(f.field, self._digests([f.value], f.field))
        if isinstance(f, In):
            return In(f.field, self._digests(f.values, f.field))
        if isinstance(f, Nin):
            return Nin(f.field, self._digests(f.values, f.field))
        if f.op == "exists":
            return f
        raise InvalidFilter(
            f"filter on {field!r}: user references are stored as keyed digests, so only equality, $in, $ne, "
            f"$nin and $exists can be applied to them (got {f.op})"
        )
