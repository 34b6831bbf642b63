"""Price a re-embedding of a namespace with another model version *before* anyone starts it.

The namespace's texts are read through the router's own store (``scroll``), normalized and de-duplicated the
way the embedding service would, counted in tokens with the service's counter, and checked against the
cache: texts the target version already embedded cost nothing. The result gives tokens, money at the target's
price (and at the current version's price, for comparison), provider calls, and how long it takes at the
target's quota.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from vectorrouter.embeddings.cache import cache_key, normalize_text

if TYPE_CHECKING:
    from vectorrouter.router import Router
    from vectorrouter.types import Namespace

__all__ = ["ReembedEstimate", "estimate_reembedding"]


@dataclass(frozen=True, slots=True)
class ReembedEstimate:
    namespace: str
    from_version: str
    to_version: str
    records: int
    #: Records with no text (vector-only): they cannot be re-embedded and need their source re-ingested.
    without_text: int
    #: Distinct texts after normalization (what would be sent, before the cache).
    unique_texts: int
    #: Of those, already embedded with the target version and cached: free.
    cached: int
    to_embed: int
    tokens: int
    price_per_million: float
    cost: float
    #: The same tokens at the current version's price, for comparison.
    current_cost: float
    provider_calls: int
    #: Minutes at the target's requests/min + tokens/min quota (None when it declares no quota).
    minutes_at_quota: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def estimate_reembedding(
    router: Router, namespace: str | Namespace, to_version: str, *, page: int = 512
) -> ReembedEstimate:
    """Count, de-duplicate, tokenize and price the texts of ``namespace`` for model ``to_version``.

    >>> from vectorrouter import Router, ModelSpec
    >>> from vectorrouter.embeddings import EmbeddingService, TEST_MODEL
    >>> from vectorrouter.backends import make_vector_factory
    >>> big = ModelSpec(version="big", provider="hash", dimensions=128, price_per_million=0.13)
    >>> router = Router(embeddings=EmbeddingService([TEST_MODEL, big]), default_model="hash-64",
    ...                 vector_factory=make_vector_factory("numpy", None))
    >>> _ = router.ingest("acme:docs", ["one text", "another text", "one  text"])
    >>> e = estimate_reembedding(router, "acme:docs", "big")
    >>> e.records, e.unique_texts, e.to_embed
    (3, 2, 2)
    """
    svc = router.embeddings
    target = svc.spec(to_version)
    ns = router.resolve(namespace)
    source = svc.spec(ns.model_version)
    backend = router.indexes.for_model(source)
    records = router.count(ns)
    without_text = 0
    texts: set[str] = set()
    for batch in backend.scroll(str(ns), batch_size=page):
        for rec in batch:
            norm = normalize_text(rec.text or "")
            if norm:
                texts.add(norm)
            else:
                without_text += 1
    ordered = sorted(texts)
    fingerprint = target.fingerprint("document")
    keys = [cache_key(fingerprint, "document", t, normalized=True) for t in ordered]
    cached_keys = svc.cache.present(keys)
    prefix = target.task("document").prefix
    todo = [t for t, k in zip(ordered, keys, strict=True) if k.key not in cached_keys]
    tokens = sum(svc.count_tokens(prefix + t) for t in todo)
    limits = [svc.batch_size, target.max_batch]
    per_call = min(n for n in limits if n)
    calls = math.ceil(len(todo) / per_call)
    minutes: float | None = None
    if target.requests_per_minute or target.tokens_per_minute:
        minutes = max(
            calls / target.requests_per_minute if target.requests_per_minute else 0.0,
            tokens / target.tokens_per_minute if target.tokens_per_minute else 0.0,
        )
    return ReembedEstimate(
        namespace=str(ns),
        from_version=source.version,
        to_version=target.version,
        records=records,
        without_text=without_text,
        unique_texts=len(ordered),
        cached=len(ordered) - len(todo),
        to_embed=len(todo),
        tokens=tokens,
        price_per_million=target.price_per_million,
        cost=target.cost(tokens),
        current_cost=source.cost(tokens),
        provider_calls=calls,
        minutes_at_quota=minutes,
    )
