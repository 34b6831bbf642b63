"""Retrieval evaluation on BEIR-format datasets: a loader, trec_eval-style metrics and a router runner.

>>> from vectorrouter import Router
>>> from vectorrouter.evaluation import load_beir, evaluate, format_report
>>> dataset = load_beir("/data/beir/scifact")                     # doctest: +SKIP
>>> with Router.embedded(".vectorrouter") as router:               # doctest: +SKIP
...     print(format_report(evaluate(router, dataset, k=10)))
"""

from vectorrouter.evaluation.beir import BeirDataset, BeirDocument, BeirQuery, DatasetError, load_beir
from vectorrouter.evaluation.metrics import dcg, ndcg_at_k, rank_run, recall_at_k
from vectorrouter.evaluation.run import (
    CORPUS_KEY,
    MODES,
    PUBLISHED,
    EvalReport,
    ModeScores,
    Reference,
    StoredCorpus,
    evaluate,
    format_report,
    report_json,
    stored_corpus,
)

__all__ = [
    "CORPUS_KEY",
    "MODES",
    "PUBLISHED",
    "BeirDataset",
    "BeirDocument",
    "BeirQuery",
    "DatasetError",
    "EvalReport",
    "ModeScores",
    "Reference",
    "StoredCorpus",
    "dcg",
    "evaluate",
    "format_report",
    "load_beir",
    "ndcg_at_k",
    "rank_run",
    "recall_at_k",
    "report_json",
    "stored_corpus",
]
