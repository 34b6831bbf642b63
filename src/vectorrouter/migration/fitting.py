"""Fit a query-side adapter from a namespace's own data: the product path to the adapter arm.

:func:`fit_namespace_adapter` samples a share of a namespace's records (5% by default), pairs each sampled
record's stored vector (read back from the old index: no old-model call) with the new model's embedding of its
text, and adds query-sized pairs — each sampled record's sentences, embedded by both models — because queries
are short and an adapter fitted only on whole documents maps them poorly (see ``docs/migrations.md``). Every
call goes through the router's embedding layer, so it is cached, batched, quota-limited and attributed to the
namespace's tenant.

With ``kind="auto"`` the candidates are fitted on 80% of the sampled *documents* (with their sentences) and
scored by mean cosine on the held-out 20%, so a document's sentences never sit on both sides; the winner is
refitted on every pair. The result carries what the fit cost against a full re-embed, so the choice between
an adapter arm and a backfill is made with numbers.

>>> from vectorrouter import EmbeddingService, ModelSpec, Router
>>> from vectorrouter.backends import NumpyBackend
>>> old, new = ModelSpec("hash-32", "hash", 32), ModelSpec("hash-48", "hash", 48)
>>> router = Router(embeddings=EmbeddingService([old, new]), vector_factory=NumpyBackend, default_model="hash-32")
>>> _ = router.ingest("acme:docs", [{"id": f"d{i}", "text": f"Note {i}. About ice and rivers."} for i in range(40)])
>>> fit = fit_namespace_adapter(router, "acme:docs", "hash-48", share=0.25)
>>> fit.adapter.source_dim, fit.adapter.target_dim, fit.sampled
(48, 32, 10)
>>> router.close()
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.migration.adapters import ADAPTER_KINDS, QueryAdapter, _unit, fit_adapter
from vectorrouter.migration.cost import estimate_tokens

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = ["AUTO_CANDIDATES", "AdapterFit", "fit_namespace_adapter", "query_sized_pieces"]

#: What ``kind="auto"`` tries: label → (kind, options). The residual MLP is left out: on every pair measured
#: in ``bench/migration.py`` it never beat the best linear map, and it is the slow one to fit.
AUTO_CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "procrustes": ("procrustes", {}),
    "procrustes (uncentred)": ("procrustes", {"center": False}),
    "affine (ridge 0.01)": ("affine", {"alpha": 0.01}),
    "affine (ridge 0.1)": ("affine", {"alpha": 0.1}),
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def query_sized_pieces(text: str, *, min_chars: int = 20, max_pieces: int = 32) -> list[str]:
    """A text's sentences (and lines), the size of a query; pieces shorter than ``min_chars`` are dropped.

    >>> query_sized_pieces("Ice melts. Rivers rise in spring and flood the plains. Ok.", min_chars=12)
    ['Rivers rise in spring and flood the plains.']
    """
    pieces: list[str] = []
    for line in text.splitlines():
        for piece in _SENTENCE_END.split(line.strip()):
            piece = piece.strip()
            if len(piece) >= min_chars and piece != text.strip():
                pieces.append(piece)
    return pieces[:max_pieces]


@dataclass(frozen=True)
class AdapterFit:
    """A fitted adapter and what it cost, next to what a full re-embed would."""

    adapter: QueryAdapter
    #: The candidate that was fitted (``auto`` picks it on held-out pairs).
    chosen: str
    source: str
    target: str
    #: Records in the namespace, and how many of them carry text (only those can be re-embedded).
    documents: int
    with_text: int
    sampled: int
    pairs: int
    #: Texts sent to the embedding layer for each model (its cache answers repeats for free).
    new_calls: int
    old_calls: int
    new_tokens: int
    old_tokens: int
    #: Estimated tokens of re-embedding every record with text (what a backfill would send).
    full_tokens: int
    #: Mean cosine between adapted and old vectors on held-out pairs, per candidate (empty for one kind).
    held_out: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (``migrate adapter --json``, benchmarks), without the adapter itself."""
        return {
            "kind": self.adapter.kind,
            "chosen": self.chosen,
            "from": self.target,
            "to_index_of": self.source,
            "records": self.documents,
            "records_with_text": self.with_text,
            "sampled": self.sampled,
            "pairs": self.pairs,
            "new_model_calls": self.new_calls,
            "old_model_calls": self.old_calls,
            "new_tokens": self.new_tokens,
            "old_tokens": self.old_tokens,
            "full_reembed_tokens": self.full_tokens,
            "held_out_cosine": self.held_out,
        }

    def summary(self) -> str:
        share = self.new_tokens / self.full_tokens if self.full_tokens else 0.0
        lines = [
            f"{self.chosen} adapter {self.target} → {self.source}: {self.pairs:,} pairs from {self.sampled:,} of "
            f"{self.with_text:,} records with text",
            f"cost: {self.new_calls:,} texts embedded by {self.target} (~{self.new_tokens:,} tokens, {share:.1%} of "
            f"a full re-embed's ~{self.full_tokens:,}) + {self.old_calls:,} by {self.source} "
            f"(~{self.old_tokens:,} tokens); stored vectors are read back free, cached texts cost nothing",
        ]
        if self.held_out:
            scores = ", ".join(
                f"{k} {v:.3f}" for k, v in sorted(self.held_out.items(), key=lambda kv: -kv[1])
            )
            lines.append(f"held-out cosine (20% of the sampled records): {scores}")
        return "\n".join(lines)


def _candidates(kind: str) -> dict[str, tuple[str, dict[str, Any]]]:
    if kind == "auto":
        return AUTO_CANDIDATES
    if kind not in ADAPTER_KINDS:
        raise ConfigurationError(
            f"unknown adapter kind {kind!r}",
            field="kind",
            fix=f"use auto or one of: {', '.join(ADAPTER_KINDS)}",
        )
    return {kind: (kind, {})}


def _mean_cosine(adapter: QueryAdapter, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sum(adapter.transform(x).astype(np.float64) * _unit(y), axis=1)))


def fit_namespace_adapter(
    router: Router,
    namespace: str,
    target: str,
    *,
    share: float = 0.05,
    kind: str = "auto",
    sentences: bool = True,
    seed: int = 0,
) -> AdapterFit:
    """Fit an adapter mapping ``target``-model queries into ``namespace``'s current (old) index.

    ``share`` of the records that carry text are sampled (at least 2); ``sentences`` adds their sentences as
    query-sized pairs (one old-model and one new-model call each). Nothing is written anywhere: save the
    adapter with ``fit.adapter.save(path)`` and hand that path to the adapter arm.
    """
    if not 0.0 < share <= 1.0:
        raise InvalidRecord(f"share must be in (0, 1], got {share!r}; 0.05 samples 5% of the namespace")
    candidates = _candidates(kind)
    ns = router.resolve(namespace)
    source = ns.model_version
    router.embeddings.spec(target)  # an unknown version fails here, naming the models
    if target == source:
        raise ConfigurationError(
            f"{namespace} already uses {target}",
            field="to",
            fix="name the model version you are migrating to",
        )
    # pass 1: how many records carry text (only those can be re-embedded) and what a full re-embed would send
    documents = with_text = full_tokens = 0
    for batch in router.scroll(ns):
        for rec in batch:
            documents += 1
            if rec.text:
                with_text += 1
                full_tokens += estimate_tokens(rec.text)
    wanted = math.floor(share * with_text)
    if wanted < 2:
        raise InvalidRecord(
            f"{ns} has {with_text} records with text; a share of {share:g} samples {wanted}, and an adapter needs "
            "at least 2 (a few hundred is typical): raise share, or backfill instead"
        )
    # pass 2: a uniform sample of exactly ``wanted`` of them with their stored vectors (reservoir: constant memory)
    rng = random.Random(seed)
    sample: list[tuple[str, list[float]]] = []
    seen = 0
    for batch in router.scroll(ns, with_vectors=True):
        for rec in batch:
            if not rec.text or rec.vector is None:
                continue
            seen += 1
            if len(sample) < wanted:
                sample.append((rec.text, list(rec.vector)))
            else:
                slot = rng.randrange(seen)
                if slot < wanted:
                    sample[slot] = (rec.text, list(rec.vector))
    if len(sample) < 2:
        raise InvalidRecord(f"{ns} lost its records while being sampled ({len(sample)} left); run it again")
    texts = [t for t, _ in sample]
    tenant = ns.tenant
    new_docs = router.embeddings.embed(target, texts, "document", tenant=tenant)
    old_docs = np.asarray([v for _, v in sample], dtype=np.float32)
    groups = list(range(len(sample)))  # which sampled record each pair came from
    new_parts, old_parts = [new_docs], [old_docs]
    pieces: list[str] = []
    if sentences:
        owner: list[int] = []
        for i, text in enumerate(texts):
            found = query_sized_pieces(text)
            pieces += found
            owner += [i] * len(found)
        if pieces:
            new_parts.append(router.embeddings.embed(target, pieces, "document", tenant=tenant))
            old_parts.append(router.embeddings.embed(source, pieces, "document", tenant=tenant))
            groups += owner
    x, y = np.vstack(new_parts), np.vstack(old_parts)  # the embedding layer has checked both widths

    held_out: dict[str, float] = {}
    chosen = next(iter(candidates))
    if len(candidates) > 1:
        order = list(range(len(sample)))
        rng.shuffle(order)
        cut = max(1, len(order) // 5)
        test_docs = set(order[:cut])
        is_test = np.array([g in test_docs for g in groups])
        if (~is_test).sum() >= 2:
            for label, (family, options) in candidates.items():
                fitted = fit_adapter(family, x[~is_test], y[~is_test], **options)
                held_out[label] = _mean_cosine(fitted, x[is_test], y[is_test])
            chosen = max(held_out, key=lambda k: held_out[k])
    family, options = candidates[chosen]
    piece_tokens = sum(estimate_tokens(t) for t in pieces)
    adapter = fit_adapter(
        family,
        x,
        y,
        **options,
        source=target,
        target=source,
        namespace=str(ns),
        sampled=len(sample),
        seed=seed,
    )
    return AdapterFit(
        adapter=adapter,
        chosen=chosen,
        source=source,
        target=target,
        documents=documents,
        with_text=with_text,
        sampled=len(sample),
        pairs=len(x),
        new_calls=len(texts) + len(pieces),
        old_calls=len(pieces),
        new_tokens=sum(estimate_tokens(t) for t in texts) + piece_tokens,
        old_tokens=piece_tokens,
        full_tokens=full_tokens,
        held_out=held_out,
    )
