"""Keyword-mode retrieval quality on BEIR SciFact, through the router, beside the published BM25 figures.

Only keyword mode is measured, so the router runs with the deterministic hash embedder and the exact numpy
vector store (the dense model plays no part in keyword results). Target: nDCG@10 >= 0.665 (BEIR BM25).

    .venv/bin/python bench/keyword_scifact.py                       # default analyzer, test split
    .venv/bin/python bench/keyword_scifact.py --ablations           # + what each analysis choice is worth
    .venv/bin/python bench/keyword_scifact.py --split train --ablations --json out.json

``--split train`` scores the 809 training queries: use it to choose settings, so the test split stays an
honest held-out check.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vectorrouter.backends import make_vector_factory
from vectorrouter.backends.tantivy_keyword import Analysis, TantivyBackend
from vectorrouter.embeddings import TEST_MODEL, EmbeddingService
from vectorrouter.evaluation import BeirDataset, EvalReport, evaluate, format_report, load_beir
from vectorrouter.router import Router

TARGET = 0.665
DEFAULT_DATA = Path("/work/shared/datasets/scifact")


@dataclass(frozen=True)
class Variant:
    name: str
    analysis: Analysis
    titles: bool = True


DEFAULT = Variant("english stop words + stemming, title + text (default)", Analysis())
ABLATIONS = (
    Variant("no stop words", Analysis(stopwords=False)),
    Variant("no stemming, no stop words", Analysis(language=None)),
    Variant("text only (titles not indexed)", Analysis(), titles=False),
)


def run(dataset: BeirDataset, variant: Variant, k: int, depth: int) -> EvalReport:
    router = Router(
        embeddings=EmbeddingService([TEST_MODEL]),
        vector_factory=make_vector_factory("numpy", None),
        keyword=TantivyBackend(analysis=variant.analysis),
        default_model=TEST_MODEL.version,
    )
    with router:
        return evaluate(router, dataset, modes=("keyword",), k=k, depth=depth, titles=variant.titles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR SciFact folder")
    parser.add_argument("--split", default="test", help="qrels split to score (test or train)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--depth", type=int, default=100, help="recall depth")
    parser.add_argument("--ablations", action="store_true", help="also score the analysis variants")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)

    dataset = load_beir(args.data, split=args.split)
    report = run(dataset, DEFAULT, args.k, args.depth)
    print(format_report(report))
    rows: list[tuple[Variant, EvalReport]] = [(DEFAULT, report)]
    if args.ablations:
        rows += [(v, run(dataset, v, args.k, args.depth)) for v in ABLATIONS]
    print()
    head = ["keyword variant", f"nDCG@{args.k}", f"recall@{args.k}", f"recall@{args.depth}"]
    table = [head] + [
        [v.name, f"{r.scores['keyword'].ndcg:.4f}", f"{r.scores['keyword'].recall:.4f}",
         f"{r.scores['keyword'].recall_at_depth:.4f}"]
        for v, r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    table.insert(1, ["-" * w for w in widths])
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    keyword = report.scores["keyword"]
    met = args.split != "test" or args.k != 10 or keyword.ndcg >= TARGET
    if args.split == "test" and args.k == 10:
        print(f"\ntarget nDCG@10 >= {TARGET}: {'met' if met else 'NOT met'} ({keyword.ndcg:.4f})")
    if args.json:
        out: dict[str, Any] = {
            "benchmark": "keyword_scifact",
            "split": args.split,
            "target_ndcg_at_10": TARGET,
            "default": report.to_dict(),
            "variants": {v.name: _summary(r) for v, r in rows},
        }
        args.json.write_text(json.dumps(out, indent=2, sort_keys=True))
        print(f"wrote {args.json}")
    return 0 if met else 1


def _summary(report: EvalReport) -> dict[str, float]:
    s = report.scores["keyword"]
    return {
        f"ndcg@{report.k}": s.ndcg,
        f"recall@{report.k}": s.recall,
        f"recall@{report.depth}": s.recall_at_depth,
    }


if __name__ == "__main__":
    sys.exit(main())
