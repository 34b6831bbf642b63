"""The metadata allowlist: per namespace, only declared keys reach a store.

An unknown key is either *dropped* (logged by name, never by value, and counted) or *rejected* (the whole
ingest stops before anything is written, with an error naming the key, the record and the fix). There is
no third way: a key nobody declared is never stored silently. A namespace with no rule at all is a
configuration gap and is refused the same way.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Namespace, Record

__all__ = ["MetadataAllowlist", "NamespacePolicy", "OnUnknown"]

log = logging.getLogger("vectorrouter.compliance")
OnUnknown = Literal["drop", "reject"]


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """The keys one namespace may store, and what happens to any other key."""

    allow: frozenset[str]
    on_unknown: OnUnknown = "reject"

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow", frozenset(self.allow))
        if self.on_unknown not in ("drop", "reject"):
            raise ConfigurationError(
                f"on_unknown must be 'drop' or 'reject', got {self.on_unknown!r}",
                field="compliance.metadata.on_unknown",
            )


@dataclass
class MetadataAllowlist:
    """Per-namespace metadata allowlist, keyed by ``tenant:feature``, ``tenant:*`` or ``*``.

    ``always`` names keys every namespace accepts (the identity and region fields the compliance layer
    itself manages are added here by :class:`~vectorrouter.compliance.Compliance`).

    >>> from vectorrouter.embeddings import TEST_MODEL
    >>> allow = MetadataAllowlist({"acme:*": NamespacePolicy({"lang", "title"}, on_unknown="drop")})
    >>> ctx = IngestContext(Namespace("acme", "docs", "v1"), TEST_MODEL)
    >>> [r.metadata for r in allow([Record("a", "t", {"lang": "en", "email": "x@y.z"})], ctx)]
    [{'lang': 'en'}]
    >>> allow.dropped[("acme:docs", "email")]
    1
    """

    rules: Mapping[str, NamespacePolicy]
    always: frozenset[str] = frozenset()
    #: ``(logical namespace, key)`` → how many values were dropped. Values are never kept.
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rules = dict(self.rules)
        for pattern in self.rules:
            if pattern != "*" and (pattern.count(":") != 1 or pattern.startswith(":")):
                raise ConfigurationError(
                    f"allowlist rule {pattern!r} must be 'tenant:feature', 'tenant:*' or '*'",
                    field=f"compliance.metadata.{pattern}",
                )
        self.always = frozenset(self.always)
        self._lock = threading.Lock()

    def with_always(self, keys: Iterable[str]) -> MetadataAllowlist:
        return MetadataAllowlist(self.rules, self.always | frozenset(keys), self.dropped)

    def policy(self, ns: Namespace) -> NamespacePolicy:
        # the most specific rule wins: 'tenant:feature', then 'tenant:*', then '*'
        for pattern in (ns.logical, f"{ns.tenant}:*", "*"):
            if pattern in self.rules:
                return self.rules[pattern]
        raise ConfigurationError(
            f"namespace {ns.logical!r} has no metadata allowlist, so its metadata cannot be stored",
            field=f"compliance.metadata.{ns.logical}",
            fix=f'declare the keys it may store, e.g. [compliance.metadata."{ns.logical}"] allow = ["lang"]'
            " (or a 'tenant:*' / '*' rule)",
        )

    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]:
        policy = self.policy(ctx.namespace)
        allowed = policy.allow | self.always
        out: list[Record] = []
        dropped: Counter[str] = Counter()
        for rec in records:
            unknown = [k for k in rec.metadata if k not in allowed]
            if not unknown:
                out.append(rec)
                continue
            if policy.on_unknown == "reject":
                raise InvalidRecord(
                    f"record {rec.id!r} in {ctx.namespace.logical}: metadata key {unknown[0]!r} is not in the "
                    f"namespace's allowlist ({', '.join(sorted(allowed)) or 'no keys'}); nothing was written. "
                    f'Fix: remove the key, or add it to compliance.metadata."{ctx.namespace.logical}".allow'
                )
            dropped.update(unknown)
            kept = {k: v for k, v in rec.metadata.items() if k in allowed}
            out.append(Record(id=rec.id, text=rec.text, metadata=kept, vector=rec.vector))
        if dropped:
            with self._lock:
                for key, n in dropped.items():
                    self.dropped[(ctx.namespace.logical, key)] += n
            log.warning(
                "allowlist dropped metadata keys %s from %d value(s) in %s",
                sorted(dropped),
                sum(dropped.values()),
                ctx.namespace.logical,
            )
        return out
