"""``vectorrouter eval DATASET``: nDCG@10 and recall@100 for dense, keyword and hybrid on a BEIR folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from vectorrouter.cli.common import add_router_args, console, open_router
from vectorrouter.errors import NamespaceNotFound
from vectorrouter.evaluation import evaluate, format_report, load_beir, report_json
from vectorrouter.evaluation.run import MODES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval", help="score dense/keyword/hybrid on a BEIR-format folder beside published reference numbers"
    )
    p.add_argument("dataset", type=Path, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    p.add_argument("--split", default="test")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated: dense,keyword,hybrid")
    p.add_argument("-k", type=int, default=10, help="cut-off for nDCG and recall (default 10)")
    p.add_argument(
        "--depth", type=int, default=100, help="hits asked per query, for recall@depth (default 100)"
    )
    p.add_argument("--namespace", "-n", default=None, help="where the corpus goes (default eval:<dataset>)")
    p.add_argument(
        "--outage",
        action="store_true",
        help="also score hybrid search with every vector store taken out (the degraded keyword step answers)",
    )
    p.add_argument(
        "--reingest",
        action="store_true",
        help="embed the corpus again even if the namespace already holds it (embedding is the slow part)",
    )
    p.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="write JSON to PATH (or stdout with no PATH)",
    )
    add_router_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dataset = load_beir(args.dataset, split=args.split)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    target = args.namespace or f"eval:{dataset.name}"
    with open_router(args) as router:
        ingest = True
        if not args.reingest:
            try:
                ingest = router.count(target) != len(dataset.corpus)
            except NamespaceNotFound:
                ingest = True
        if not ingest:
            console.print(
                f"[dim]{escape(target)} already holds the {len(dataset.corpus)} documents; scoring only[/dim]"
            )
        report = evaluate(
            router,
            dataset,
            modes=modes,
            k=args.k,
            namespace=target,
            depth=args.depth,
            ingest=ingest,
            outage=args.outage,
        )
    if args.json == "-":
        print(report_json(report))
        return 0
    console.print(format_report(report), highlight=False, markup=False)
    if args.json:
        Path(args.json).write_text(report_json(report) + "\n")
        console.print(f"wrote {args.json}", markup=False)
    return 0
