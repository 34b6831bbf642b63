"""``vectorrouter search "query"``: a readable table of hits and which store answered."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from vectorrouter.cli.common import add_router_args, console, open_router
from vectorrouter.cli.render import result_table
from vectorrouter.errors import InvalidFilter


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search", help="search a namespace and print a table (or JSON)")
    p.add_argument("query")
    p.add_argument("--namespace", "-n", default="default:docs", help="tenant:feature[:model_version]")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", choices=("dense", "keyword", "hybrid"), default=None)
    p.add_argument(
        "--filter", default=None, help='JSON filter, e.g. \'{"lang": "en", "year": {"$gte": 2020}}\''
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_router_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flt = None
    if args.filter:
        try:
            flt = json.loads(args.filter)
        except json.JSONDecodeError as exc:
            raise InvalidFilter(f"--filter is not valid JSON: {exc.msg}") from None
    with open_router(args) as router:
        result = router.search(args.namespace, args.query, k=args.k, mode=args.mode, filter=flt)
    if args.json:
        json.dump(asdict(result), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        console.print(result_table(result, title=f"{args.query!r} in {result.namespace}"))
    return 0
