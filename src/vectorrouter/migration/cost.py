"""Pricing a re-embed: the cost seam the backfill and ``migrate plan`` call.

Phase 1 estimates tokens from text length and prices them per million; the embedding layer's own cost
accounting (cache hits cost nothing, the provider's tokenizer counts exactly) plugs in through the same
:class:`CostModel` protocol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vectorrouter.errors import ConfigurationError

__all__ = ["Cost", "CostModel", "Quota", "TokenPriceModel", "estimate_tokens"]


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


@dataclass(frozen=True, slots=True)
class Quota:
    """A provider's rate limits; ``None`` means unlimited on that axis."""

    tokens_per_minute: float | None = None
    requests_per_minute: float | None = None
    batch_size: int = 64

    def seconds_for(self, documents: int, tokens: int) -> float | None:
        """Time a re-embed of this size takes at the quota (``None`` when nothing limits it)."""
        limits = []
        if self.tokens_per_minute:
            limits.append(tokens / self.tokens_per_minute * 60.0)
        if self.requests_per_minute:
            limits.append(math.ceil(documents / self.batch_size) / self.requests_per_minute * 60.0)
        return max(limits) if limits else None
