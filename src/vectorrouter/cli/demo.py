"""``vectorrouter demo``: the main job — two tenants ingested and searched on the embedded default."""

from __future__ import annotations

import argparse
from pathlib import Path

from vectorrouter.cli.common import console


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="ingest the bundled corpus for two tenants and show searches (offline)")
    p.add_argument(
        "--path", type=Path, default=None, help="keep the demo's data here (default: a temporary folder)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vectorrouter.demo import run_demo

    run_demo(args.path, console=console)
    return 0
