"""``vectorrouter migrate plan|start|status|advance|rollback|finish``: move a namespace to a new model version.

The state lives where the router's configuration says (``[migration]``: a folder, or Redis), so these
commands can run on any host while the serving processes follow the same state.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vectorrouter.cli.common import add_router_args, console, open_router, plain
from vectorrouter.errors import ConfigurationError
from vectorrouter.migration import (
    FileStateStore,
    LayerCostModel,
    Migration,
    MigrationResolver,
    QualityGate,
    Quota,
    Schedule,
)
from vectorrouter.migration.fitting import fit_namespace_adapter
from vectorrouter.migration.state import StateStore
from vectorrouter.router import Router

__all__ = ["print_status", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate", help="move a namespace to a new embedding model: plan, backfill, roll out, roll back"
    )
    action = p.add_subparsers(dest="action", metavar="ACTION")
    action.required = True
    helps = {
        "plan": "documents, tokens, cost and time at a quota, target index and schedule",
        "start": "start (or resume) the shadow backfill; ends with the parity check",
        "status": "phase, rollout step, parity, backfill progress, spend and per-arm quality",
        "advance": "move the rollout to its next percentage",
        "rollback": "send every process back to the old version on its next search",
        "finish": "make the new version the active one (the old one stays unless --drop-old)",
        "adapter": "fit a query adapter from a sample of the namespace, for the adapter arm (start --arm adapter)",
    }
    for name, text in helps.items():
        a = action.add_parser(name, help=text)
        a.add_argument("namespace", help="the logical namespace, tenant:feature")
        add_router_args(a)
        a.set_defaults(func=run)
        if name in ("plan", "start"):
            a.add_argument("--to", required=True, dest="target", help="the model version to migrate to")
            a.add_argument("--steps", default="5,25,50,100", help="rollout percentages (default 5,25,50,100)")
            a.add_argument(
                "--dwell", type=float, default=3600.0, help="seconds each step runs before advancing"
            )
            a.add_argument(
                "--arm", choices=("new", "adapter"), default="new", help="the arm the schedule grows"
            )
            a.add_argument(
                "--price-per-mtok",
                type=float,
                default=None,
                help="USD per million tokens (default: the target model's declared price_per_million)",
            )
        if name == "adapter":
            a.add_argument("--to", required=True, dest="target", help="the new model version")
            a.add_argument("--out", required=True, type=Path, help="where to write the adapter (.npz)")
            a.add_argument("--share", type=float, default=0.05, help="share of the records sampled (0.05)")
            a.add_argument(
                "--kind",
                default="auto",
                help="auto (best on held-out pairs), procrustes, affine or mlp",
            )
            a.add_argument(
                "--no-sentences", action="store_true", help="pair whole records only (no query-sized pairs)"
            )
            a.add_argument("--seed", type=int, default=0)
            a.add_argument("--json", action="store_true")
        if name == "plan":
            a.add_argument("--tokens-per-minute", type=float, default=None, help="the provider's token quota")
            a.add_argument("--requests-per-minute", type=float, default=None)
            a.add_argument("--batch-size", type=int, default=64)
            a.add_argument("--json", action="store_true")
        if name == "start":
            a.add_argument(
                "--budget", type=float, default=None, help="pause the backfill once this much is spent"
            )
            a.add_argument("--adapter", default=None, help="adapter file for the adapter arm")
            a.add_argument("--batch-size", type=int, default=64)
            a.add_argument("--no-progress", action="store_true")
        if name == "status":
            a.add_argument("--json", action="store_true")
        if name == "advance":
            a.add_argument("--force", action="store_true", help="skip the dwell time of the current step")
            a.add_argument(
                "--auto",
                action="store_true",
                help="advance only if the dwell is over and the quality gate passes (for a cron job)",
            )
            a.add_argument("--min-overlap", type=float, default=0.5, help="quality gate: shadow overlap@k")
            a.add_argument("--min-searches", type=int, default=200, help="quality gate: candidate searches")
        if name == "rollback":
            a.add_argument("--lift", action="store_true", help="clear the flag: the rollout resumes")
        if name == "finish":
            a.add_argument("--drop-old", action="store_true", help="delete the old version's records too")


def _store(router: Router, args: argparse.Namespace) -> StateStore:
    if isinstance(router.resolver, MigrationResolver):
        return router.resolver.store
    if getattr(args, "config", None) is None:
        return FileStateStore(Path(args.data_dir or ".vectorrouter") / "migrations")
    raise ConfigurationError(
        "this router keeps no migration state",
        field="path",
        fix="set path = '...' or [migration] state = 'redis'",
    )


#: Numeric options: (flag, lowest, whether the lowest itself is allowed, highest or None, an example).
_NUMBERS: dict[str, tuple[str, float, bool, float | None, str]] = {
    "budget": ("--budget", 0.0, True, None, "--budget 25 (dollars), or leave it out for no cap"),
    "tokens_per_minute": (
        "--tokens-per-minute",
        0.0,
        False,
        None,
        "--tokens-per-minute 1000000, or leave it out",
    ),
    "requests_per_minute": (
        "--requests-per-minute",
        0.0,
        False,
        None,
        "--requests-per-minute 3000, or leave it out",
    ),
    "batch_size": ("--batch-size", 1.0, True, None, "--batch-size 64"),
    "dwell": ("--dwell", 0.0, True, None, "--dwell 3600 (seconds; 0 advances without waiting)"),
    "price_per_mtok": ("--price-per-mtok", 0.0, True, None, "--price-per-mtok 0.02"),
    "min_searches": ("--min-searches", 0.0, True, None, "--min-searches 200"),
    "min_overlap": ("--min-overlap", 0.0, True, 1.0, "--min-overlap 0.5 (overlap@k runs from 0 to 1)"),
    "share": ("--share", 0.0, False, 1.0, "--share 0.05 (5% of the records)"),
}


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse a numeric option out of its range before anything is opened or written."""
    for dest, (flag, low, low_ok, high, example) in _NUMBERS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        if not math.isfinite(value):
            problem = "is not a finite number"
        elif value < low or (value == low and not low_ok):
            problem = f"must be {'at least' if low_ok else 'above'} {low:g}"
        elif high is not None and value > high:
            problem = f"must be at most {high:g}"
        else:
            continue
        raise ConfigurationError(f"{value:g} {problem}", field=flag, fix=f"use e.g. {example}")


def _schedule(args: argparse.Namespace) -> Schedule:
    return Schedule.parse(args.steps, arm=args.arm, min_dwell_seconds=args.dwell)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unlimited by quota"
    return str(dt.timedelta(seconds=round(seconds)))


def run(args: argparse.Namespace) -> int:
    _check_numbers(args)
    with open_router(args) as router:
        if args.action == "adapter":  # reads the namespace and writes a file: no migration state involved
            return _adapter(router, args)
        price = getattr(args, "price_per_mtok", None)
        cost = LayerCostModel(router.embeddings, price_per_million=price) if price is not None else None
        m = Migration(router, _store(router, args), args.namespace, cost=cost)
        return int(_ACTIONS[args.action](m, args) or 0)


def _plan(m: Migration, args: argparse.Namespace) -> int:
    quota = Quota(args.tokens_per_minute, args.requests_per_minute, args.batch_size)
    plan = m.plan(args.target, quota=quota, schedule=_schedule(args))
    if args.json:
        json.dump(
            {
                "namespace": plan.logical,
                "from": plan.source,
                "to": plan.target,
                "documents": plan.documents,
                "tokens": plan.tokens,
                "cost_usd": plan.cost,
                "seconds_at_quota": plan.seconds_at_quota,
                "source_index": plan.source_index.name,
                "target_index": plan.target_index.name,
                "steps": list(plan.schedule.steps),
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    table = Table(
        title=plain(f"migration plan: {plan.logical} {plan.source} → {plan.target}", "table.title"),
        show_header=False,
    )
    table.add_row("documents", f"{plan.documents:,}")
    table.add_row("tokens (estimated)", f"{plan.tokens:,}")
    price = (
        args.price_per_mtok
        if args.price_per_mtok is not None
        else m.router.embeddings.spec(plan.target).price_per_million
    )
    table.add_row(
        "cost (estimated)", f"${plan.cost:,.4f} at ${price:g}/M tokens (texts already cached are free)"
    )
    table.add_row("time at quota", _duration(plan.seconds_at_quota))
    table.add_row(
        "index",
        plain(f"{plan.source_index.name} → {plan.target_index.name} ({plan.target_index.dimension} dims)"),
    )
    table.add_row(
        "rollout",
        plain(
            " → ".join(f"{s:g}%" for s in plan.schedule.steps)
            + f" of the {plan.schedule.arm} arm, {plan.schedule.min_dwell_seconds:g}s per step"
        ),
    )
    console.print(table)
    return 0


def _start(m: Migration, args: argparse.Namespace) -> int:
    report = m.start(
        args.target,
        schedule=_schedule(args),
        budget=args.budget,
        adapter_path=args.adapter,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    console.print(
        f"backfill {report.status}: {report.processed} read, {report.embedded} embedded in total, "
        f"{report.skipped} already done, {report.failed} failed; spent ${report.spent:.4f} "
        f"of an estimated ${report.estimated_cost:.4f}",
        markup=False,
    )
    if report.status == "paused":
        console.print(
            f"[yellow]paused[/yellow]: {escape(report.reason)}. Raise --budget and run start again to resume."
        )
        return 3
    assert report.parity is not None
    console.print(report.parity.summary(), markup=False)
    return 0 if report.parity.passed else 4


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    return "—" if value is None else pattern.format(value)


def _status(m: Migration, args: argparse.Namespace) -> int:
    info = m.status()
    st = info["state"]
    if args.json:
        data = json.loads(st.to_json())
        data.update(
            rolled_back=info["rolled_back"],
            dual_write_failures=info["dual_write_failures"],
            quality=info["quality"],
            split={"old": info["split"].old, "new": info["split"].new, "adapter": info["split"].adapter},
        )
        json.dump(data, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    print_status(m, info=info)
    return 0


def print_status(m: Migration, out: Console | None = None, *, info: dict[str, Any] | None = None) -> None:
    """The ``migrate status`` report: phase, rollout split, parity, backfill and spend, quality by arm, nDCG."""
    out = out or console  # a caller's console may have emoji codes on: data is printed with emoji=False
    info = info or m.status()
    st = info["state"]
    cp, split = st.checkpoint, info["split"]
    table = Table(
        title=plain(f"migration of {st.logical}: {st.source} → {st.target}", "table.title"), show_header=False
    )
    table.add_row(
        "phase",
        escape(st.phase)
        + ("  [red]ROLLED BACK: every search serves the old version[/red]" if info["rolled_back"] else ""),
    )
    step = (
        f"{st.schedule.steps[st.step]:g}% (step {st.step + 1} of {len(st.schedule.steps)})"
        if st.step >= 0
        else "not started"
    )
    table.add_row(
        "rollout", f"{step}; split old {split.old:g}% / new {split.new:g}% / adapter {split.adapter:g}%"
    )
    verdict = "not checked" if not st.parity else ("passed" if st.parity.get("passed") else "FAILED")
    if st.parity and st.parity.get("reason"):
        verdict += f": {st.parity['reason']}"
    table.add_row("parity", plain(verdict))
    if st.parity:
        p = st.parity
        table.add_row(
            "",
            f"{p['source_count']} vs {p['target_count']} records; {p['missing']} missing, {p['extra']} extra, "
            f"{p['changed']} changed, {p['failed']} failed",
        )
    table.add_row(
        "backfill",
        plain(
            f"{cp.processed}/{cp.total} read this run, {cp.embedded} embedded, {len(cp.failed_ids)} failed, "
            f"{info['dual_write_failures']} lost dual writes"
            + (f"; paused: {cp.paused_reason}" if cp.paused_reason else "")
        ),
    )
    budget = f" (cap ${st.budget:.4f})" if st.budget is not None else ""
    table.add_row(
        "spend", f"${cp.spent:.4f} of an estimated ${cp.estimated_cost:.4f}{budget}; {cp.tokens:,} tokens"
    )
    out.print(table)
    if info["quality"]:
        q = Table(title="quality by arm")
        for col in (
            "arm",
            "searches",
            "p50 ms",
            "p95 ms",
            "top score p50",
            "overlap@k",
            "rank corr",
            "clicks",
            "click rate",
        ):
            q.add_column(col, justify="left" if col == "arm" else "right")
        for arm, d in info["quality"].items():
            q.add_row(
                plain(arm),
                str(d["searches"]),
                _fmt(d["p50_ms"], "{:.2f}"),
                _fmt(d["p95_ms"], "{:.2f}"),
                _fmt(d["top_score_p50"], "{:.2f}"),
                _fmt(d["overlap_at_k"]),
                _fmt(d["rank_corr"]),
                str(d["clicks"]),
                _fmt(d["click_rate"]),
            )
        out.print(q)
    ndcg = st.quality.get("ndcg")
    if ndcg:
        scores = ", ".join(f"{arm} {v:.4f}" for arm, v in ndcg["by_arm"].items())
        out.print(
            f"nDCG@{ndcg['k']} on {ndcg['queries']} labelled queries: {scores}", markup=False, emoji=False
        )
    if st.history:
        last = st.history[-1]
        when = dt.datetime.fromtimestamp(last["at"]).isoformat(timespec="seconds")
        out.print(f"last event: {when} {last['action']} {last['detail']}", markup=False, emoji=False)


def _advance(m: Migration, args: argparse.Namespace) -> int:
    if args.auto:
        gate = QualityGate(min_searches=args.min_searches, min_overlap=args.min_overlap)
        advanced, reasons = m.auto_advance(gate)
        if not advanced:
            console.print(f"{m.logical}: not advanced: " + "; ".join(reasons), markup=False)
            return 5
    else:
        m.advance(force=args.force)
    st = m.state()
    console.print(f"{st.logical}: {st.schedule.arm} arm now at {st.schedule.steps[st.step]:g}%", markup=False)
    return 0


def _rollback(m: Migration, args: argparse.Namespace) -> int:
    state = m.rollback(on=not args.lift)
    if args.lift and (state is None or state.phase in ("finished", "aborted")):
        console.print(f"{m.logical}: no migration is running; no rollback flag is left", markup=False)
    elif args.lift:
        console.print(f"{m.logical}: rollback lifted; the rollout split applies again", markup=False)
    else:
        console.print(
            f"{m.logical}: ROLLED BACK; every process serves the old version from its next search",
            markup=False,
        )
    return 0


def _finish(m: Migration, args: argparse.Namespace) -> int:
    st = m.finish(drop_old=args.drop_old)
    console.print(f"{st.logical}: finished; active version is {st.target}", markup=False)
    return 0


def _adapter(router: Router, args: argparse.Namespace) -> int:
    fit = fit_namespace_adapter(
        router,
        args.namespace,
        args.target,
        share=args.share,
        kind=args.kind,
        sentences=not args.no_sentences,
        seed=args.seed,
    )
    path = fit.adapter.save(args.out)
    if args.json:
        json.dump(
            {"path": str(path), **fit.as_dict()},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    console.print(fit.summary(), markup=False)
    console.print(
        f"wrote {path}: serve it with `vectorrouter migrate start {args.namespace} --to {args.target} "
        f"--arm adapter --adapter {path}`",
        markup=False,
    )
    return 0


_ACTIONS = {
    "plan": _plan,
    "start": _start,
    "status": _status,
    "advance": _advance,
    "rollback": _rollback,
    "finish": _finish,
}
