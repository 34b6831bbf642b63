"""``vectorrouter ingest PATH``: load JSONL or a folder of text/markdown into a namespace."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from vectorrouter.cli.common import add_router_args, console, open_router
from vectorrouter.errors import ConfigurationError
from vectorrouter.ingest import MemoryQueue
from vectorrouter.loaders import load_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="ingest a JSONL file or a folder of .md/.txt into a namespace")
    p.add_argument(
        "path", type=Path, help="a .jsonl file (id, text, title?, metadata?) or a folder of .md/.txt"
    )
    p.add_argument("--namespace", "-n", default="default:docs", help="tenant:feature[:model_version]")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--max-chars", type=int, default=1200, help="longest markdown chunk, in characters")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--enqueue", action="store_true", help="validate now, queue for a worker (`vectorrouter queue work`)"
    )
    add_router_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_router(args) as router:
        if args.enqueue and isinstance(router.queue, MemoryQueue):
            # the in-process queue ends with this command: "queued" would be a promise nobody keeps
            raise ConfigurationError(
                "--enqueue needs a queue that outlives this command, and the configured queue is the in-process "
                "memory queue: whatever it holds is lost when the command exits",
                field="[ingest] queue",
                fix='set queue = "redis" (with redis_url = "..." or REDIS_URL) under [ingest] in vectorrouter.toml '
                "and run `vectorrouter queue work`, or drop --enqueue to write the records directly",
            )
        records = load_path(args.path, max_chars=args.max_chars)
        if args.enqueue:
            events = router.enqueue(args.namespace, records, batch_size=args.batch_size)
            console.print(
                f"queued {len(records)} records in {len(events)} events on the {router.queue.name} queue",
                markup=False,
            )
            return 0
        report = router.ingest(
            args.namespace, records, batch_size=args.batch_size, progress=False if args.no_progress else None
        )
    console.print(
        f"ingested [bold]{report.written}[/bold] records into [bold]{escape(report.namespace)}[/bold] "
        f"in {report.batches} batches ({report.seconds:.1f}s)"
    )
    return 0
