"""Residency: which stores may hold and serve data of which region. Pure decisions, no I/O.

A *region* is a short upper-case tag (``EU``, ``US``, ``HIPAA``…). A namespace gets its region from the
policy (by ``tenant:feature``, ``tenant:*`` or ``*``); a record may also carry the tag in its metadata
(``region`` by default), and then it must agree with its namespace's. Each *store* (a ladder step name:
``primary``, ``secondary``, ``result-cache``, ``keyword``…) is configured with the regions it may hold.

The router asks the policy for the steps it may use, in ladder order. If none is left, the answer is a
:class:`~vectorrouter.errors.ResidencyViolation`, never a step of another region: degrading is allowed,
leaving the region is not. Each decision is returned as data so it can be written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from vectorrouter.errors import ConfigurationError, ResidencyViolation
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Namespace, Record

if TYPE_CHECKING:
    from vectorrouter.compliance.audit import AuditLog
    from vectorrouter.ladder import Ladder

__all__ = ["ResidencyDecision", "ResidencyGate", "ResidencyHook", "ResidencyPolicy"]

_REGION = re.compile(r"^[A-Z][A-Z0-9_-]{1,15}$")


def _region(tag: str, where: str) -> str:
    if not isinstance(tag, str) or not _REGION.match(tag):
        raise ConfigurationError(
            f"region {tag!r} is not a region tag",
            field=where,
            fix="use 2-16 upper-case letters/digits, e.g. 'EU'",
        )
    return tag


@dataclass(frozen=True, slots=True)
class ResidencyDecision:
    """The outcome of one check: the region, the steps allowed (in order) and the steps refused."""

    operation: Literal["read", "write"]
    namespace: str
    region: str | None
    allowed: tuple[str, ...]
    refused: tuple[str, ...]

    def audit_details(self) -> dict[str, str | list[str]]:
        return {
            "operation": self.operation,
            "region": self.region or "",
            "allowed": list(self.allowed),
            "refused": list(self.refused),
        }


class ResidencyPolicy:
    """Regions of namespaces and stores.

    >>> policy = ResidencyPolicy(
    ...     namespaces={"acme-eu:*": "EU", "acme-us:*": "US"},
    ...     stores={"qdrant-eu": {"EU"}, "pinecone-us": {"US"}, "result-cache": {"EU", "US"}},
    ... )
    >>> ns = Namespace("acme-eu", "docs", "v1")
    >>> policy.steps_for(ns, ["pinecone-us", "qdrant-eu", "result-cache"], "read").allowed
    ('qdrant-eu', 'result-cache')

    ``untagged`` says what a namespace without a region may use: every store (``"any"``) or only stores
    declared with no region (``"unrestricted-stores"``). ``field`` is the metadata key of a record's tag.
    """

    def __init__(
        self,
        namespaces: Mapping[str, str],
        stores: Mapping[str, Iterable[str]],
        *,
        field: str = "region",
        untagged: Literal["any", "unrestricted-stores"] = "any",
    ) -> None:
        self.namespaces = {
            p: _region(t, f"compliance.residency.namespaces.{p}") for p, t in namespaces.items()
        }
        self.stores = {
            name: frozenset(_region(t, f"compliance.residency.stores.{name}") for t in tags)
            for name, tags in stores.items()
        }
        if untagged not in ("any", "unrestricted-stores"):
            raise ConfigurationError(
                f"untagged must be 'any' or 'unrestricted-stores', got {untagged!r}",
                field="compliance.residency.untagged",
            )
        self.field = field
        self.untagged = untagged

    def region_of(self, ns: Namespace) -> str | None:
        for pattern in (ns.logical, f"{ns.tenant}:*", "*"):
            if pattern in self.namespaces:
                return self.namespaces[pattern]
        return None

    def store_regions(self, step: str) -> frozenset[str]:
        try:
            return self.stores[step]
        except KeyError:
            raise ConfigurationError(
                f"store {step!r} has no residency declared",
                field=f"compliance.residency.stores.{step}",
                fix="list the regions it may hold, e.g. stores.primary = ['EU']",
            ) from None

    def steps_for(
        self, ns: Namespace, steps: Sequence[str], operation: Literal["read", "write"]
    ) -> ResidencyDecision:
        """The steps (in the given order) that may serve ``operation`` on ``ns``; refused ones listed apart."""
        region = self.region_of(ns)
        allowed: list[str] = []
        refused: list[str] = []
        for step in steps:
            held = self.store_regions(step)
            ok = region in held if region is not None else (self.untagged == "any" or not held)
            (allowed if ok else refused).append(step)
        return ResidencyDecision(operation, str(ns), region, tuple(allowed), tuple(refused))

    def require(
        self, ns: Namespace, steps: Sequence[str], operation: Literal["read", "write"]
    ) -> ResidencyDecision:
        """Like :meth:`steps_for`, but raise when no compliant step is left."""
        decision = self.steps_for(ns, steps, operation)
        if not decision.allowed:
            raise ResidencyViolation(
                f"{operation} on {ns} needs a store of region {decision.region}, and none is left among "
                f"{', '.join(steps) or 'no steps'}; refusing rather than leaving the region. "
                f"Fix: bring a {decision.region} store back, or add one to the ladder",
                region=decision.region,
            )
        return decision

    def check_record(self, ns: Namespace, record: Record) -> None:
        tag = record.metadata.get(self.field)
        region = self.region_of(ns)
        if tag is not None and tag != region:
            if isinstance(tag, str) and region is not None and tag.upper() == region:
                fix = f"region tags are upper case: tag it {self.field}={region!r}"
            else:
                fix = f"write it to a namespace of region {tag!r}"
            raise ResidencyViolation(
                f"record {record.id!r} is tagged {self.field}={tag!r} but namespace {ns.logical} is "
                f"{region or 'not region-bound'}; nothing was written. Fix: {fix}",
                region=str(tag),
            )


class ResidencyHook:
    """Ingest hook: every record's region tag must match its namespace's region (checked before writes)."""

    def __init__(self, policy: ResidencyPolicy) -> None:
        self.policy = policy

    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]:
        for rec in records:
            self.policy.check_record(ctx.namespace, rec)
        return records


class ResidencyGate:
    """The router-side enforcement: a :class:`~vectorrouter.ladder.walk.StepGate` over a :class:`ResidencyPolicy`.

    Installed on the ladder by :meth:`~vectorrouter.compliance.Compliance.attach`, it keeps every step of another
    region away from a region's namespace, for searches, reads (get, count) and writes alike, including the
    writes of a migration's mirror and of the ingest worker (they all go through the ladder). The ladder works a
    namespace's path out once per process, so each namespace's decision is audited once, not per search.

    >>> policy = ResidencyPolicy({"acme:*": "EU"}, {"eu": {"EU"}, "us": {"US"}})
    >>> ResidencyGate(policy)(Namespace("acme", "docs", "v1"), ["eu", "us"])
    {'us': 'residency: acme:docs:v1 must stay in EU; step us holds US'}
    """

    def __init__(self, policy: ResidencyPolicy, audit: AuditLog | None = None) -> None:
        self.policy = policy
        self.audit = audit
        self._kinds: dict[str, str] = {}

    def check_ladder(self, ladder: Ladder) -> None:
        """Every step must have its regions declared: fail at attach time, not on the first search."""
        for name, step in ladder.steps.items():
            self.policy.store_regions(name)
            self._kinds[name] = step.kind

    def __call__(self, ns: Namespace, steps: Sequence[str]) -> dict[str, str]:
        decision = self.policy.steps_for(ns, steps, "read")
        if self.audit is not None and decision.region is not None:
            self.audit.append("residency.decision", str(ns), decision.audit_details())
        refused: dict[str, str] = {}
        for step in decision.refused:
            held = ", ".join(sorted(self.policy.store_regions(step))) or "no region"
            must = decision.region or "stores without a region"
            refused[step] = f"residency: {ns} must stay in {must}; step {step} holds {held}"
        if not any(self._kinds.get(s, "vector") == "vector" for s in decision.allowed):
            raise ResidencyViolation(
                f"{ns} must stay in {decision.region or 'stores without a region'}, and no vector store of its "
                f"ladder ({', '.join(steps)}) may hold it; nothing was read or written. Fix: add a vector store "
                f"of that region to the ladder and declare it under compliance.residency.stores",
                region=decision.region,
            )
        return refused
