"""Cost accounting: texts, provider calls, tokens and money per model version and tenant.

>>> ledger = CostLedger()
>>> ledger.record("3small", "acme", embedded=10, calls=1, tokens=500, cost=0.00001)
>>> ledger.record("3small", "acme", requested=10, cache_hits=10)
>>> row = ledger.total(tenant="acme"); (row.requested, row.embedded, row.tokens, row.cache_hits)
(10, 10, 500, 10)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields

__all__ = ["CostLedger", "Usage"]


@dataclass(slots=True)
class Usage:
    """One ledger row. ``requested`` counts texts asked for; ``embedded`` those actually sent and billed."""

    version: str = ""
    tenant: str = ""
    requested: int = 0
    cache_hits: int = 0
    #: Texts that were identical to another in the same call or already in flight for another caller.
    deduplicated: int = 0
    embedded: int = 0
    calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    rate_limited: int = 0
    failed: int = 0

    @property
    def provider_calls_avoided(self) -> float:
        """Share of requested texts that needed no provider work (cache hits and de-duplication)."""
        return (self.cache_hits + self.deduplicated) / self.requested if self.requested else 0.0


_COUNTERS = [f.name for f in fields(Usage) if f.name not in ("version", "tenant")]


class CostLedger:
    """Thread-safe running totals, keyed by (model version, tenant). The tenant ``""`` means unattributed."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Usage] = {}
        self._lock = threading.Lock()

    def record(self, version: str, tenant: str | None = None, **counts: float) -> None:
        unknown = set(counts) - set(_COUNTERS)
        if unknown:
            raise TypeError(f"unknown ledger counters {sorted(unknown)}; use {_COUNTERS}")
        key = (version, tenant or "")
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = Usage(version=version, tenant=tenant or "")
            for name, value in counts.items():
                setattr(row, name, getattr(row, name) + value)

    def rows(self) -> list[Usage]:
        """A copy of every row, sorted by version then tenant."""
        with self._lock:
            return [
                Usage(**{f.name: getattr(r, f.name) for f in fields(Usage)})
                for _, r in sorted(self._rows.items())
            ]

    def total(self, *, version: str | None = None, tenant: str | None = None) -> Usage:
        """Sum of the rows matching ``version`` and/or ``tenant`` (all rows when both are None)."""
        out = Usage(version=version or "*", tenant=tenant if tenant is not None else "*")
        for row in self.rows():
            if (version is None or row.version == version) and (tenant is None or row.tenant == tenant):
                for name in _COUNTERS:
                    setattr(out, name, getattr(out, name) + getattr(row, name))
        return out

    def reset(self) -> None:
        with self._lock:
            self._rows.clear()
