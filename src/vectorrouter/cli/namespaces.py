"""``vectorrouter namespaces``: every versioned namespace, its index and record count."""

from __future__ import annotations

import argparse

from vectorrouter.cli.common import add_router_args, console, open_router
from vectorrouter.cli.render import namespaces_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("namespaces", help="list namespaces with their model version, index and size")
    p.add_argument("--tenant", default=None)
    add_router_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_router(args) as router:
        infos = router.namespaces(args.tenant)
        counts = {str(i.namespace): router.count(i.namespace) for i in infos}
    console.print(namespaces_table(infos, counts))
    return 0
