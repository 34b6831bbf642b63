"""Evaluate a :class:`~vectorrouter.router.Router` on a BEIR dataset through its public API.

The corpus goes in through ``Router.ingest`` and every judged query comes back through ``Router.search``,
so the figures measure exactly what an application gets (analysis, fusion, filters and all).

Titles: each document is ingested as ``title + " " + text``. That is what the published references do
(MTEB encodes ``title + " " + text`` for dense models; Anserini's "flat" BM25 indexes the concatenation),
it gives dense, keyword and hybrid modes the same text so the comparison between them is fair, and on
SciFact it beats indexing the text alone (see ``bench/keyword_scifact.py --ablations``).

Queries that return nothing score 0 (trec_eval ``-c``), rather than being left out of the average.

Every ingested document carries the corpus digest (:meth:`BeirDataset.digest`) in its metadata under
:data:`CORPUS_KEY` (metadata is neither embedded nor ranked on). :func:`stored_corpus` compares it, so a
namespace is scored without ingesting again only when it holds exactly this corpus, and ingesting replaces the
namespace's contents (drop, then write) so documents no longer in the corpus do not linger.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from vectorrouter.errors import ConfigurationError, NamespaceNotFound
from vectorrouter.evaluation.beir import BeirDataset, BeirQuery
from vectorrouter.evaluation.metrics import ndcg_at_k, rank_run, recall_at_k
from vectorrouter.filters import Eq, Exists, Not
from vectorrouter.types import Namespace, SearchMode

if TYPE_CHECKING:
    from vectorrouter.router import Router

__all__ = [
    "CORPUS_KEY",
    "MODES",
    "PUBLISHED",
    "EvalReport",
    "ModeScores",
    "Reference",
    "StoredCorpus",
    "evaluate",
    "format_report",
    "report_json",
    "stored_corpus",
]

MODES: tuple[SearchMode, ...] = ("dense", "keyword", "hybrid")

#: Metadata key holding, on every document an evaluation ingests, the digest of the corpus it came from.
CORPUS_KEY = "beir_corpus"


@dataclass(frozen=True, slots=True)
class Reference:
    """A published nDCG@10 figure and the mode of ours it is comparable with.

    A dense reference names its ``model``: it is compared only with a namespace embedded by that model.
    """

    system: str
    mode: SearchMode
    ndcg_at_10: float
    source: str
    model: str | None = None

    def comparable(self, model: str) -> bool:
        return self.model is None or self.model.lower() in model.lower()


#: Published nDCG@10 on the test split (provenance in the dataset's SOURCE.md); other splits get none.
PUBLISHED: dict[str, tuple[Reference, ...]] = {
    "scifact": (
        Reference(
            "BM25, BEIR paper (Elasticsearch multi-field)", "keyword", 0.665, "Thakur et al. 2021, Table 2"
        ),
        Reference(
            "BM25, Anserini flat (title + text)",
            "keyword",
            0.6789,
            "castorini/anserini regressions-beir-v1.0.0-scifact.flat",
        ),
        Reference(
            "all-MiniLM-L6-v2 (MTEB)",
            "dense",
            0.64508,
            "embeddings-benchmark/mtebpaper results/all-MiniLM-L6-v2/SciFact.json",
            model="all-MiniLM-L6-v2",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class ModeScores:
    """Mean metrics of one search mode over the judged queries."""

    mode: SearchMode
    ndcg: float
    recall: float
    recall_at_depth: float
    queries: int
    empty_results: int
    mean_latency_ms: float
    p95_latency_ms: float
    served_by: str
    per_query_ndcg: dict[str, float] = field(default_factory=dict, repr=False)
    #: Row name: the mode, or e.g. ``hybrid, vector stores down`` for the degraded-ladder run.
    label: str = ""
    #: Share of searches answered degraded (not by the mode's first-choice stores).
    degraded_share: float = 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Everything one evaluation measured, renderable with :func:`format_report` and :func:`report_json`."""

    dataset: str
    split: str
    namespace: str
    model: str
    k: int
    depth: int
    documents: int
    queries: int
    ingest_seconds: float | None
    scores: dict[str, ModeScores]
    references: tuple[Reference, ...] = ()

    def to_dict(self, *, per_query: bool = False) -> dict[str, Any]:
        out = asdict(self)
        out["references"] = [asdict(r) for r in self.references]
        if not per_query:
            for mode in out["scores"].values():
                mode.pop("per_query_ndcg")
        return out


def _document(doc_id: str, title: str, text: str, stamp: str) -> dict[str, Any]:
    return {"id": doc_id, "text": f"{title} {text}".strip(), "metadata": {CORPUS_KEY: stamp}}


def _stamp(dataset: BeirDataset, titles: bool) -> str:
    # titles change the indexed text, so a namespace ingested without them is another corpus
    return dataset.digest() if titles else f"{dataset.digest()}-untitled"


class StoredCorpus(NamedTuple):
    """What a namespace holds compared with a dataset's corpus (see :func:`stored_corpus`)."""

    #: Records in the namespace; None when nobody wrote it.
    records: int | None
    #: True when those records are exactly the corpus, ingested as :func:`evaluate` would.
    current: bool


def stored_corpus(
    router: Router, dataset: BeirDataset, namespace: str | None = None, *, titles: bool = True
) -> StoredCorpus:
    """Whether ``namespace`` (default ``eval:<dataset name>``) already holds exactly ``dataset``'s corpus.

    True only when every record carries this corpus's digest and there are as many as documents: a corpus
    rewritten with other texts, or another dataset of the same name and size, is not mistaken for it.
    """
    target = namespace or f"eval:{dataset.name}"
    try:
        records = router.count(target)
    except NamespaceNotFound:
        return StoredCorpus(None, False)
    if records != len(dataset.corpus):
        return StoredCorpus(records, False)
    return StoredCorpus(records, router.count(target, Eq(CORPUS_KEY, _stamp(dataset, titles))) == records)


def _clear(router: Router, target: str) -> str:
    """Drop ``target`` if it exists, so the corpus written next replaces it; returns the name to write to."""
    try:
        ns: Namespace = router.resolve(target)
    except NamespaceNotFound:
        return target
    foreign = router.count(ns, Not(Exists(CORPUS_KEY)))
    if foreign and ns.tenant != "eval":
        # not ours to drop: an evaluation replaces the namespace's contents
        raise ConfigurationError(
            f"{ns} holds {foreign} records that no evaluation wrote; evaluating there would drop them",
            field="namespace",
            fix="evaluate into a namespace of its own (the default is eval:<dataset>)",
        )
    router.drop_namespace(ns)
    return str(ns)  # the same model version as before


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"must be a positive integer, got {value!r}", field=name, fix="e.g. 10")


def evaluate(
    router: Router,
    dataset: BeirDataset,
    modes: Sequence[SearchMode] = MODES,
    k: int = 10,
    namespace: str | None = None,
    *,
    depth: int = 100,
    ingest: bool = True,
    titles: bool = True,
    progress: bool | None = None,
    outage: bool = False,
) -> EvalReport:
    """Ingest ``dataset`` into ``namespace`` (default ``eval:<dataset name>``) and score each mode.

    Ingesting replaces what the namespace held: it is dropped first (keeping its model version). A namespace
    outside the ``eval`` tenant holding records no evaluation wrote is refused instead of dropped.

    Reports nDCG@k, recall@k and recall@depth (each query asks for ``max(k, depth)`` hits). Pass
    ``ingest=False`` to score a namespace already holding the corpus (re-embedding is the slow part; ask
    :func:`stored_corpus` whether it does), and
    ``titles=False`` to ingest the text without titles (an ablation; see the module docstring).
    ``outage=True`` adds a row scored with every vector store of the namespace's ladder taken out of rotation:
    hybrid searches then degrade to the keyword step, which is what callers get during a vector-store outage.

    >>> from vectorrouter import Router, TEST_MODEL
    >>> from vectorrouter.evaluation import BeirDataset, BeirDocument, BeirQuery, evaluate
    >>> ds = BeirDataset("tiny", {"d1": BeirDocument("d1", "Apples", "red fruit"),
    ...                           "d2": BeirDocument("d2", "Pears", "green fruit")},
    ...                  {"q1": BeirQuery("q1", "apples")}, {"q1": {"d1": 1}})
    >>> with Router.embedded(None, model=TEST_MODEL, vector_kind="numpy") as router:
    ...     report = evaluate(router, ds, modes=("keyword",))
    >>> report.scores["keyword"].ndcg
    1.0
    """
    _check_positive("k", k)
    _check_positive("depth", depth)
    for mode in modes:
        if mode not in MODES:
            raise ConfigurationError(f"unknown mode {mode!r}", field="modes", fix=f"use {', '.join(MODES)}")
    target = namespace or f"eval:{dataset.name}"
    ingest_seconds = None
    if ingest:
        started = time.perf_counter()
        stamp = _stamp(dataset, titles)
        docs = (_document(d.id, d.title if titles else "", d.text, stamp) for d in dataset.corpus.values())
        target = router.ingest(_clear(router, target), docs, progress=progress).namespace
        ingest_seconds = time.perf_counter() - started
    ns = router.resolve(target)
    target = str(ns)
    model = router.embeddings.spec(ns.model_version).model or ns.model_version
    queries = dataset.judged_queries()
    scores: dict[str, ModeScores] = {
        mode: _score_mode(router, dataset, queries, mode, target, k, depth) for mode in modes
    }
    if outage:
        label = "hybrid, vector stores down"
        vector_steps = router.ladder.vector_steps(ns)
        for step in vector_steps:
            step.take_out("evaluation of the degraded ladder")
        try:
            scores[label] = _score_mode(router, dataset, queries, "hybrid", target, k, depth, label=label)
        finally:
            for step in vector_steps:
                step.put_back()
    return EvalReport(
        dataset=dataset.name,
        split=dataset.split,
        namespace=target,
        model=model,
        k=k,
        depth=depth,
        documents=len(dataset.corpus),
        queries=len(queries),
        ingest_seconds=ingest_seconds,
        scores=scores,
        references=PUBLISHED.get(dataset.name, ()) if dataset.split == "test" else (),  # published on test
    )


def _score_mode(
    router: Router,
    dataset: BeirDataset,
    queries: Iterable[BeirQuery],
    mode: SearchMode,
    namespace: str,
    k: int,
    depth: int,
    *,
    label: str = "",
) -> ModeScores:
    ndcgs: dict[str, float] = {}
    recalls, deep_recalls, latencies = [], [], []
    empty, degraded = 0, 0
    served: dict[str, int] = {}
    for query in queries:
        result = router.search(namespace, query.text, k=max(k, depth), mode=mode)
        latencies.append(result.latency_ms)
        served[result.served_by] = served.get(result.served_by, 0) + 1
        degraded += result.degraded
        ranked = rank_run({h.id: h.score for h in result.hits})
        empty += not ranked
        rels = dataset.qrels[query.id]
        ndcgs[query.id] = ndcg_at_k(ranked, rels, k)
        recalls.append(recall_at_k(ranked, rels, k))
        deep_recalls.append(recall_at_k(ranked, rels, depth))
    n = len(ndcgs)
    return ModeScores(
        mode=mode,
        ndcg=_mean(ndcgs.values()),
        recall=_mean(recalls),
        recall_at_depth=_mean(deep_recalls),
        queries=n,
        empty_results=empty,
        mean_latency_ms=_mean(latencies),
        p95_latency_ms=statistics.quantiles(latencies, n=20)[-1] if n > 1 else _mean(latencies),
        served_by=", ".join(sorted(served, key=lambda name: -served[name])),
        per_query_ndcg=ndcgs,
        label=label or mode,
        degraded_share=degraded / n if n else 0.0,
    )


_DEGRADED = ("hybrid, vector stores down",)


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def _rows(report: EvalReport) -> Iterator[list[str]]:
    k, d = report.k, report.depth
    yield ["mode", f"nDCG@{k}", f"recall@{k}", f"recall@{d}", "mean ms", "p95 ms", "served by", "degraded"]
    for s in report.scores.values():
        yield [
            s.label or s.mode,
            f"{s.ndcg:.4f}",
            f"{s.recall:.4f}",
            f"{s.recall_at_depth:.4f}",
            f"{s.mean_latency_ms:.1f}",
            f"{s.p95_latency_ms:.1f}",
            s.served_by,
            f"{s.degraded_share:.0%}",
        ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def format_report(report: EvalReport) -> str:
    """A plain-text table of our figures, then the published references beside our comparable mode."""
    ingest = f", ingest {report.ingest_seconds:.1f}s" if report.ingest_seconds is not None else ""
    lines = [
        f"{report.dataset} ({report.split} split): {report.queries} queries, {report.documents} documents, "
        f"namespace {report.namespace} ({report.model}){ingest}",
        "",
        *_table(list(_rows(report))),
    ]
    if report.references:
        rows = [["published reference", "nDCG@10", "ours", "ours - ref", "source"]]
        for ref in report.references:
            comparable = report.k == 10 and ref.comparable(report.model)
            # a keyword reference also measures the degraded ladder, whose answers come from the keyword step
            wanted = (ref.mode, *_DEGRADED) if ref.mode == "keyword" else (ref.mode,)
            ours_rows: list[ModeScores | None] = [
                s for s in report.scores.values() if comparable and (s.label or s.mode) in wanted
            ]
            for ours in ours_rows or [None]:
                rows.append(
                    [
                        ref.system,
                        f"{ref.ndcg_at_10:.4f}",
                        f"{ours.label or ours.mode} {ours.ndcg:.4f}" if ours else "-",
                        f"{ours.ndcg - ref.ndcg_at_10:+.4f}" if ours else "-",
                        ref.source,
                    ]
                )
        lines += ["", *_table(rows)]
    return "\n".join(lines)


def report_json(report: EvalReport, *, per_query: bool = False) -> str:
    """The report as JSON (``per_query`` adds each query's nDCG@k)."""
    return json.dumps(report.to_dict(per_query=per_query), indent=2, sort_keys=True)
