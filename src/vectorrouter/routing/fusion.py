"""Reciprocal rank fusion: merge ranked lists whose scores are not comparable (BM25 vs cosine)."""

from __future__ import annotations

from collections.abc import Sequence

from vectorrouter.types import Hit

__all__ = ["RRF_K", "rrf"]

#: The constant from Cormack, Clarke & Büttcher (SIGIR 2009); it damps the weight of the very top ranks.
RRF_K = 60


def rrf(
    lists: Sequence[Sequence[Hit]], k: int, *, c: int = RRF_K, weights: Sequence[float] | None = None
) -> list[Hit]:
    """Fuse ranked hit lists by ``sum(w / (c + rank))``; ties keep the earlier list's order.

    >>> a = [Hit("x", 0.9), Hit("y", 0.8)]
    >>> b = [Hit("y", 12.0), Hit("z", 3.0)]
    >>> [h.id for h in rrf([a, b], k=3)]
    ['y', 'x', 'z']
    """
    if weights is None:
        weights = [1.0] * len(lists)
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    order: dict[str, int] = {}
    for w, hits in zip(weights, lists, strict=True):
        for rank, hit in enumerate(hits, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + w / (c + rank)
            if hit.id not in first:
                first[hit.id] = hit
                order[hit.id] = len(order)
    ranked = sorted(scores, key=lambda i: (-scores[i], order[i]))[:k]
    return [Hit(id=i, score=scores[i], text=first[i].text, metadata=first[i].metadata) for i in ranked]
