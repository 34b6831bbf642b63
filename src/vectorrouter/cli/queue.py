"""``vectorrouter queue``: inspect and work the ingest queue and its dead-letter queue."""

from __future__ import annotations

import argparse
import datetime as dt

from rich.markup import escape
from rich.table import Table

from vectorrouter.cli.common import add_router_args, console, open_router, plain
from vectorrouter.ingest import IngestWorker


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("queue", help="ingest queue: status, dead letters, replay, run a worker")
    action = p.add_subparsers(dest="action", metavar="ACTION")
    action.required = True
    for name, text in (
        ("status", "pending events and dead letters"),
        ("dead", "list dead-lettered events with their errors"),
        ("replay", "move dead letters (all, or the given ids) back into the queue"),
        ("work", "apply queued events through the router until the queue is empty"),
    ):
        a = action.add_parser(name, help=text)
        add_router_args(a)
        a.set_defaults(func=run)
        if name == "replay":
            a.add_argument("event_ids", nargs="*")
        if name == "work":
            a.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
            a.add_argument("--consumer", default="cli-worker")


def run(args: argparse.Namespace) -> int:
    with open_router(args) as router:
        queue = router.queue
        if args.action == "status":
            dead = queue.dead_letters()
            console.print(
                f"queue [bold]{escape(queue.name)}[/bold]: {queue.pending()} pending, {len(dead)} dead letters"
            )
        elif args.action == "dead":
            table = Table(title="dead letters")
            for col in ("event", "namespace", "records", "attempts", "enqueued", "error"):
                table.add_column(col)
            for e in queue.dead_letters():
                when = dt.datetime.fromtimestamp(e.enqueued_at).isoformat(timespec="seconds")
                table.add_row(
                    plain(e.event_id),
                    plain(e.namespace),
                    str(len(e.record_ids)),
                    str(e.attempts),
                    when,
                    plain(e.last_error),
                )
            console.print(table)
        elif args.action == "replay":
            moved = queue.replay(args.event_ids or None)
            console.print(f"moved {moved} dead letters back into the queue")
        else:
            stats = IngestWorker(router, queue, consumer=args.consumer).drain(timeout=args.timeout)
            console.print(
                f"applied {stats.acked} events ({stats.records} records), {stats.retried} retried, "
                f"{stats.dead} dead-lettered"
            )
    return 0
