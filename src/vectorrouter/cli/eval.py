"""``vectorrouter eval DATASET``: nDCG@10 and recall@100 for dense, keyword and hybrid on a BEIR folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.markup import escape

from vectorrouter.cli.common import add_router_args, console, err_console, open_router
from vectorrouter.errors import ConfigurationError
from vectorrouter.evaluation import evaluate, format_report, load_beir, report_json, stored_corpus
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
        help="embed the corpus again even if the namespace already holds it (embedding is the slow part); "
        "a namespace holding other documents is always replaced",
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


def _json_file(value: str | None) -> Path | None:
    """The --json file, checked before any scoring so a bad path does not cost the whole run."""
    if value is None or value == "-":
        return None
    path = Path(value)
    fix = "name a file in an existing, writable folder, e.g. --json eval.json (or --json alone for stdout)"
    if path.is_dir():
        raise ConfigurationError(f"{value} is a folder, not a file", field="--json", fix=fix)
    parent = path.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise ConfigurationError(f"cannot write {value}: {parent} {what}", field="--json", fix=fix)
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigurationError(f"cannot write {value}: permission denied", field="--json", fix=fix)
    return path


def run(args: argparse.Namespace) -> int:
    json_file = _json_file(args.json)
    dataset = load_beir(args.dataset, split=args.split)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    target = args.namespace or f"eval:{dataset.name}"
    # with JSON on stdout, notes go to stderr so the output stays parseable
    notes = err_console if args.json == "-" else console
    with open_router(args) as router:
        stored = stored_corpus(router, dataset, target)
        ingest = args.reingest or not stored.current
        n = len(dataset.corpus)
        if not ingest:
            notes.print(
                f"[dim]{escape(target)} already holds the {n} documents; scoring only "
                "(same corpus digest; --reingest embeds them again)[/dim]",
                soft_wrap=True,
            )
        elif stored.records is not None:
            why = "--reingest" if stored.current else f"they are not the {n} documents of {dataset.path}"
            notes.print(
                f"[dim]{escape(target)} holds {stored.records} records; {escape(why)}: dropping them and "
                "ingesting the corpus again[/dim]",
                soft_wrap=True,
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
    if json_file is not None:
        try:
            json_file.write_text(report_json(report) + "\n")
        except OSError as exc:
            raise ConfigurationError(
                f"could not write {args.json} ({exc.strerror or exc})", field="--json"
            ) from None
        console.print(f"wrote {args.json}", markup=False)
    return 0
