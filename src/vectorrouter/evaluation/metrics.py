"""Ranking metrics with the conventions of trec_eval (which BEIR calls through pytrec_eval).

- A run is ``{doc_id: score}``; it is ranked by score, ties broken by document id *descending*, as
  trec_eval does, so our figures are comparable with BEIR's.
- nDCG@k uses linear gains (the judgement value itself, negative treated as 0) and the ``log2(rank + 1)``
  discount; the ideal ranking is every judged document sorted by gain, cut at ``k``.
- recall@k is the share of relevant (score > 0) documents found in the top ``k``.

>>> round(ndcg_at_k(["d3", "d1"], {"d1": 1}, 10), 4)
0.6309
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["dcg", "ndcg_at_k", "rank_run", "recall_at_k"]


def rank_run(run: Mapping[str, float]) -> list[str]:
    """Document ids best first: score descending, ties by id descending (trec_eval's order).

    >>> rank_run({"a": 1.0, "b": 1.0, "c": 2.0})
    ['c', 'b', 'a']
    """
    return [doc for doc, _ in sorted(run.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains listed best rank first."""
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranked list against one query's judgements (0.0 when nothing is relevant)."""
    _check_k(k)
    ideal = dcg(sorted((max(s, 0) for s in qrels.values()), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([max(qrels.get(doc, 0), 0) for doc in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Relevant documents in the top ``k`` over all relevant documents (0.0 when nothing is relevant)."""
    _check_k(k)
    relevant = {doc for doc, s in qrels.items() if s > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
