"""Pricing a re-embed: the cost seam the backfill and ``migrate plan`` call.

:class:`LayerCostModel` (the default) prices texts the way the embedding layer bills them: its token counter,
the target version's declared price, and nothing for texts its cache already holds or that repeat within a
batch. :class:`TokenPriceModel` is a flat estimate from text length at a given price, for a quick plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vectorrouter.embeddings.cache import cache_key, normalize_text
from vectorrouter.errors import ConfigurationError

if TYPE_CHECKING:
    from vectorrouter.embeddings.service import EmbeddingService

__all__ = ["Cost", "CostModel", "LayerCostModel", "Quota", "TokenPriceModel", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """Roughly 4 characters per token for English (the common rule of thumb), at least 1 per text."""
    return max(1, math.ceil(len(text) / 4))


@dataclass(frozen=True, slots=True)
class Cost:
    tokens: int
    usd: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.tokens + other.tokens, self.usd + other.usd)


class CostModel(Protocol):
    """What embedding ``texts`` with model ``version`` costs (or, after the call, did cost)."""

    def estimate(self, version: str, texts: Sequence[str]) -> Cost: ...


class TokenPriceModel:
    """Tokens by text length, priced per million tokens (0 for local models, which cost only time).

    >>> TokenPriceModel(price_per_million=0.02).estimate("v2", ["x" * 400] * 10)
    Cost(tokens=1000, usd=2e-05)
    """

    def __init__(self, price_per_million: float = 0.0) -> None:
        if price_per_million < 0:
            raise ConfigurationError("must be >= 0", field="price_per_million", fix="use e.g. 0.02")
        self.price_per_million = price_per_million

    def estimate(self, version: str, texts: Sequence[str]) -> Cost:
        tokens = sum(estimate_tokens(t) for t in texts)
        return Cost(tokens, tokens * self.price_per_million / 1_000_000)


class LayerCostModel:
    """What the embedding layer will bill for embedding ``texts`` as documents with ``version``.

    Texts are normalised and de-duplicated as the service does, those already in its cache (any layer) are
    free, the rest are counted with the service's token counter (task prefix included) and priced at the
    version's ``price_per_million`` — or at ``price_per_million`` given here, to price a plan differently.

    >>> from vectorrouter.embeddings import EmbeddingService, ModelSpec
    >>> svc = EmbeddingService([ModelSpec("paid", "hash", 8, price_per_million=1_000_000.0)])
    >>> model = LayerCostModel(svc)
    >>> model.estimate("paid", ["some text", "some  text", "other"]).tokens   # the repeat is free
    5
    >>> _ = svc.embed("paid", ["other"], "document")
    >>> model.estimate("paid", ["some text", "other"])                       # cached: free too
    Cost(tokens=3, usd=3.0)
    """

    def __init__(self, service: EmbeddingService, *, price_per_million: float | None = None) -> None:
        if price_per_million is not None and price_per_million < 0:
            raise ConfigurationError("must be >= 0", field="price_per_million", fix="use e.g. 0.02")
        self.service = service
        self.price_per_million = price_per_million

    def estimate(self, version: str, texts: Sequence[str]) -> Cost:
        spec = self.service.spec(version)
        fingerprint, prefix = spec.fingerprint("document"), spec.task("document").prefix
        keys = {
            norm: cache_key(fingerprint, "document", norm, normalized=True)
            for norm in (normalize_text(t) for t in texts)
            if norm
        }
        cached = self.service.cache.present(list(keys.values())) if keys else set()
        tokens = sum(self.service.count_tokens(prefix + n) for n, k in keys.items() if k.key not in cached)
        price = spec.price_per_million if self.price_per_million is None else self.price_per_million
        return Cost(tokens, tokens * price / 1_000_000)


@dataclass(frozen=True, slots=True)
class Quota:
    """A provider's rate limits; ``None`` means unlimited on that axis."""

    tokens_per_minute: float | None = None
    requests_per_minute: float | None = None
    batch_size: int = 64

    def __post_init__(self) -> None:
        for name in ("tokens_per_minute", "requests_per_minute"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ConfigurationError(
                    f"{value!r} is not a rate: a quota is a number above 0 per minute",
                    field=name,
                    fix="use e.g. 1000000 tokens or 3000 requests a minute, or None for no limit",
                )
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigurationError(
                f"{self.batch_size!r} is not a batch size",
                field="batch_size",
                fix="use a whole number >= 1, e.g. 64",
            )

    def seconds_for(self, documents: int, tokens: int) -> float | None:
        """Time a re-embed of this size takes at the quota (``None`` when nothing limits it)."""
        limits = []
        if self.tokens_per_minute:
            limits.append(tokens / self.tokens_per_minute * 60.0)
        if self.requests_per_minute:
            limits.append(math.ceil(documents / self.batch_size) / self.requests_per_minute * 60.0)
        return max(limits) if limits else None
