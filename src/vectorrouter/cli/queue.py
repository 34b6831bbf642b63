"""``vectorrouter queue``: inspect and work the ingest queue and its dead-letter queue."""

from __future__ import annotations

import argparse
import datetime as dt
import math

from rich.markup import escape
from rich.table import Table

from vectorrouter.cli.common import add_router_args, config_path, console, open_router, plain
from vectorrouter.config import IngestConfig, load_config
from vectorrouter.errors import BackendUnavailable, ConfigurationError


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
            a.add_argument(
                "--retry-for",
                type=float,
                default=60.0,
                metavar="SECONDS",
                help="keep retrying an unreachable queue this long, then fail (default 60)",
            )


def _ingest_config(args: argparse.Namespace) -> IngestConfig:
    """The ``[ingest]`` table of the file ``open_router`` reads (the same choice), or the defaults."""
    config = config_path(args)
    return load_config(config).ingest if config is not None else IngestConfig()


def run(args: argparse.Namespace) -> int:
    if args.action == "work" and not (math.isfinite(args.retry_for) and args.retry_for >= 0):
        raise ConfigurationError(
            f"{args.retry_for:g} is not a number of seconds",
            field="--retry-for",
            fix="use e.g. --retry-for 60",
        )
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
            worker = _ingest_config(args).make_worker(
                router, queue, consumer=args.consumer, queue_retry_for=args.retry_for
            )
            try:
                stats = worker.drain(timeout=args.timeout)
            except BackendUnavailable as exc:
                if queue.name != "redis":
                    raise
                raise BackendUnavailable(
                    f"{str(exc).rstrip('.')}. Is Redis running there? Its address is [ingest] redis_url (or REDIS_URL)"
                ) from exc
            console.print(
                f"applied {stats.acked} events ({stats.records} records), {stats.retried} retried, "
                f"{stats.dead} dead-lettered"
            )
            parked = len(queue.dead_letters())
            if parked:  # also the entries the queue itself parked as unreadable
                console.print(
                    f"{parked} dead letters wait in the queue: see `vectorrouter queue dead`", markup=False
                )
    return 0
