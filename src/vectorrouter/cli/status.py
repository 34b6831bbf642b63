"""``vectorrouter status``: each ladder step's breaker state, recent error rate and latency.

Health is what this process has seen. ``--probe`` first makes one light call to every step (a count on a
namespace, a cache ping) so a fresh process reports the stores as they are now; ``--metrics`` prints the
Prometheus exposition of the router's metrics instead.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.table import Table

from vectorrouter.cli.common import add_router_args, console, open_router, plain
from vectorrouter.ladder.stats import StepHealth


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="show each ladder step's breaker state, error rate and latency")
    p.add_argument("--probe", action="store_true", help="call every step once before reporting")
    p.add_argument("--namespace", "-n", default=None, help="namespace to probe (default: the first one)")
    p.add_argument("--json", action="store_true", help="print the health report as JSON")
    p.add_argument("--metrics", action="store_true", help="print metrics in the Prometheus text format")
    add_router_args(p)
    p.set_defaults(func=run)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def health_table(rows: list[StepHealth]) -> Table:
    table = Table(
        title="degradation ladder", caption=f"window: last {rows[0].window_s:.0f} s" if rows else None
    )
    for col in (
        "step",
        "kind",
        "store",
        "breaker",
        "calls",
        "errors",
        "error rate",
        "skipped",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(col, justify="right" if col not in ("step", "kind", "store", "breaker") else "left")
    table.add_column("last error", overflow="fold", max_width=40)
    colours = {"closed": "green", "half_open": "yellow", "open": "red"}
    for h in rows:
        state = f"[{colours[h.state]}]{h.state}[/]"
        if h.state == "open":
            state += f" ({h.retry_in:.1f}s)"
        if h.held_for > 0:
            state += f" held {h.held_for:.1f}s"
        table.add_row(
            plain(h.name),
            plain(h.kind),
            plain(h.store),
            state,
            str(h.calls),
            str(h.errors),
            f"{h.error_rate:.0%}",
            str(h.skipped),
            _ms(h.p50_ms),
            _ms(h.p99_ms),
            plain(h.last_error),
        )
    return table


def run(args: argparse.Namespace) -> int:
    with open_router(args) as router:
        if args.probe:
            infos = router.namespaces()
            ns = router.resolve(args.namespace) if args.namespace else (infos[0].namespace if infos else None)
            model = router.embeddings.spec(ns.model_version) if ns is not None else None
            router.ladder.probe(ns, model)
        rows = router.health()
        if args.metrics:
            sys.stdout.write(router.metrics.render_prometheus())
        elif args.json:
            json.dump([h.as_dict() for h in rows], sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            console.print(health_table(rows))
    return 0
