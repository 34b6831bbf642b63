"""``vectorrouter estimate NAMESPACE --to VERSION``: what re-embedding a namespace would cost, before doing it."""

from __future__ import annotations

import argparse
import json
import sys

from rich.table import Table

from vectorrouter.cli.common import add_router_args, console, open_router, plain
from vectorrouter.embeddings.estimate import estimate_reembedding


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "estimate",
        help="price re-embedding a namespace with another model version",
        description="Count, de-duplicate and tokenize a namespace's texts and price them at another model "
        "version (texts that version already has cached are free). Nothing is embedded.",
    )
    p.add_argument("namespace", help="tenant:feature (its active version) or tenant:feature:version")
    p.add_argument("--to", required=True, dest="to_version", metavar="VERSION", help="target model version")
    p.add_argument("--json", action="store_true", help="print the estimate as JSON")
    add_router_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_router(args) as router:
        est = estimate_reembedding(router, args.namespace, args.to_version)
    if args.json:
        json.dump(est.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = Table(
        title=plain(f"re-embed {est.namespace} with {est.to_version}", "table.title"), show_header=False
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("records", f"{est.records:,}")
    if est.without_text:
        table.add_row("records without text (cannot be re-embedded)", f"{est.without_text:,}")
    table.add_row("distinct texts", f"{est.unique_texts:,}")
    table.add_row(plain(f"already cached for {est.to_version} (free)"), f"{est.cached:,}")
    table.add_row("texts to embed", f"{est.to_embed:,}")
    table.add_row("estimated tokens", f"{est.tokens:,}")
    table.add_row("provider calls", f"{est.provider_calls:,}")
    table.add_row(plain(f"price per million tokens ({est.to_version})"), f"{est.price_per_million:g}")
    table.add_row("estimated cost", f"{est.cost:,.4f}")
    table.add_row(plain(f"same tokens at {est.from_version}'s price"), f"{est.current_cost:,.4f}")
    if est.minutes_at_quota is not None:
        table.add_row("time at the quota", f"{est.minutes_at_quota:,.1f} min")
    console.print(table)
    console.print(
        "[dim]tokens are estimated (≈4 bytes or one word per token); providers bill their own count[/dim]"
    )
    return 0
