"""Failover under load: the primary store dies mid-run. The degradation ladder against a plain langchain-core
``Runnable.with_fallbacks`` chain over the same two stores, with the same fault and the same store timeout.

Both stores are in-process exact indexes behind a failure-injecting wrapper (``vectorrouter.testing.scripted``).
``hang`` makes every primary call block until the store client's own timeout (``--timeout-ms``) gives up, as in a
regional outage; ``kill`` refuses at once, as a dead host does. Searches use precomputed query vectors so only the
routing differs. Phases: before the fault, the outage (for the ladder split at the moment its breaker opened;
the fallback chain is split at the same offset), and after the primary is back.

Target: no failed search, and p99 while the breaker is open within 1 ms of the serving step's own healthy p99
(the secondary alone, measured as a one-step ladder under the same load).

    python bench/failover.py                       # both faults, readable tables
    python bench/failover.py --fault hang --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vectorrouter.backends import IndexSpec, NumpyBackend
from vectorrouter.embeddings import ModelSpec
from vectorrouter.ladder import Ladder, StepPolicy, VectorStep
from vectorrouter.ladder.walk import Query
from vectorrouter.testing.scripted import Script
from vectorrouter.types import Namespace, Record

NS = Namespace("bench", "failover", "rand-64")
REFERENCE = "secondary-alone"


@dataclass
class Sample:
    t: float
    ms: float
    ok: bool
    served: str


@dataclass
class Phase:
    name: str
    searches: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None
    served: dict[str, int] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(np.ceil(q / 100 * len(ordered))) - 1))]


def phase(name: str, samples: Sequence[Sample]) -> Phase:
    ok = [s.ms for s in samples if s.ok]
    served: dict[str, int] = {}
    for s in samples:
        served[s.served] = served.get(s.served, 0) + 1
    return Phase(name, len(samples), sum(not s.ok for s in samples), pct(ok, 50), pct(ok, 99), served)


def drive(search: Callable[[int], str], seconds: float, workers: int, counter: list[int]) -> list[Sample]:
    """``workers`` closed-loop clients searching for ``seconds``."""
    stop = time.perf_counter() + seconds
    out: list[Sample] = []
    lock = threading.Lock()

    def client() -> None:
        local: list[Sample] = []
        while time.perf_counter() < stop:
            with lock:
                i = counter[0]
                counter[0] += 1
            t0 = time.perf_counter()
            try:
                served = search(i)
                ok = True
            except Exception:
                served, ok = "failed", False
            local.append(Sample(t0, (time.perf_counter() - t0) * 1000.0, ok, served))
        with lock:
            out.extend(local)

    threads = [threading.Thread(target=client) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sorted(out, key=lambda s: s.t)


@dataclass
class World:
    """Two stores holding the same records, the primary behind a fault script."""

    primary: Script
    primary_store: Any
    secondary_store: Any
    queries: np.ndarray
    model: ModelSpec
    timeout_s: float

    def fail(self, fault: str) -> None:
        if fault == "hang":
            self.primary.hang(max_hang=self.timeout_s)  # the store client's own timeout ends each call
        else:
            self.primary.kill()


def make_world(records: int, dim: int, timeout_s: float, seed: int = 7) -> World:
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(records, dim)).astype(np.float32)
    recs = [Record(id=f"r{i}", text=f"record {i}", vector=vecs[i].tolist()) for i in range(records)]
    spec = IndexSpec.for_dimension(dim)
    script = Script(affects=("search",))
    primary, secondary = script.wrap(NumpyBackend(spec)), NumpyBackend(spec)
    primary.upsert(str(NS), recs)
    secondary.upsert(str(NS), recs)
    queries = rng.normal(size=(512, dim)).astype(np.float32)
    return World(script, primary, secondary, queries, ModelSpec("rand-64", "hash", dim), timeout_s)


def ladder_search(ladder: Ladder, world: World) -> Callable[[int], str]:
    def search(i: int) -> str:
        q = Query(
            namespace=NS,
            model=world.model,
            mode="dense",
            k=10,
            vector=world.queries[i % len(world.queries)].tolist(),
        )
        return ladder.search(q).served_by

    return search


def make_ladder(world: World, policy: StepPolicy, *, with_primary: bool = True) -> Ladder:
    steps = []
    if with_primary:
        steps.append(VectorStep("primary", lambda spec: world.primary_store, policy=policy))
    steps.append(VectorStep("secondary", lambda spec: world.secondary_store, policy=policy))
    return Ladder(steps)


def run_ladder(world: World, fault: str, policy: StepPolicy, seconds: float, workers: int) -> dict[str, Any]:
    ladder = make_ladder(world, policy)
    opened: list[float] = []
    ladder.steps["primary"].on_breaker_change.append(
        lambda name, old, new: opened.append(time.perf_counter()) if new == "open" else None
    )
    # every other search goes to the secondary alone (a one-step ladder): its healthy latency, measured under
    # exactly the same load and noise as the phase it is compared with
    full = ladder_search(ladder, world)
    alone = ladder_search(make_ladder(world, policy, with_primary=False), world)

    def search(i: int) -> str:
        return full(i // 2) if i % 2 == 0 else (alone(i // 2), REFERENCE)[1]

    counter = [0]
    before = drive(search, seconds, workers, counter)
    world.fail(fault)
    t_fault = time.perf_counter()
    outage = drive(search, seconds * 1.5, workers, counter)
    world.primary.revive()
    t_revive = time.perf_counter()
    after = drive(search, policy.recovery_timeout + seconds, workers, counter)
    open_at = opened[0] if opened else float("inf")
    back = next((s.t for s in after if s.served == "primary"), None)
    windows = {
        "before": before,
        "outage, breaker closed": [s for s in outage if s.t < open_at],
        "outage, breaker open": [s for s in outage if s.t >= open_at],
        "after": after,
    }
    return {
        "phases": [phase(n, [s for s in w if s.served != REFERENCE]) for n, w in windows.items()],
        "reference": [phase(n, [s for s in w if s.served == REFERENCE]) for n, w in windows.items()],
        "breaker_open_after_ms": (open_at - t_fault) * 1000.0 if opened else None,
        "primary_back_after_ms": (back - t_revive) * 1000.0 if back is not None else None,
        "split_at_ms": (open_at - t_fault) * 1000.0 if opened else None,
    }


def run_fallbacks(
    world: World, fault: str, seconds: float, workers: int, split_ms: float | None
) -> dict[str, Any]:
    from langchain_core.runnables import RunnableLambda

    def from_store(name: str, store: Any) -> RunnableLambda[int, str]:
        def call(i: int) -> str:
            store.search(str(NS), world.queries[i % len(world.queries)].tolist(), 10)
            return name

        return RunnableLambda(call)

    chain = from_store("primary", world.primary_store).with_fallbacks(
        [from_store("secondary", world.secondary_store)]
    )
    counter = [0]
    before = drive(chain.invoke, seconds, workers, counter)
    world.fail(fault)
    t_fault = time.perf_counter()
    outage = drive(chain.invoke, seconds * 1.5, workers, counter)
    world.primary.revive()
    t_revive = time.perf_counter()
    after = drive(chain.invoke, seconds, workers, counter)
    cut = t_fault + (split_ms or 0.0) / 1000.0
    back = next((s.t for s in after if s.served == "primary"), None)
    return {
        "phases": [
            phase("before", before),
            phase("outage, first part", [s for s in outage if s.t < cut]),
            phase("outage, rest", [s for s in outage if s.t >= cut]),
            phase("after", after),
        ],
        "breaker_open_after_ms": None,
        "primary_back_after_ms": (back - t_revive) * 1000.0 if back is not None else None,
    }


def fmt(v: float | None, unit: str = "") -> str:
    return "-" if v is None else f"{v:.3f}{unit}" if v < 10 else f"{v:.1f}{unit}"


def table(title: str, ladder: dict[str, Any], chain: dict[str, Any]) -> str:
    lines = [
        title,
        f"{'phase':<26}{'ladder: n / failed / p50 ms / p99 ms':>44}   {'with_fallbacks: n / failed / p50 / p99':>44}",
    ]
    for lp, cp in zip(ladder["phases"], chain["phases"], strict=True):
        left = f"{lp.searches:>6} / {lp.failed:>3} / {fmt(lp.p50_ms):>8} / {fmt(lp.p99_ms):>8}"
        right = f"{cp.searches:>6} / {cp.failed:>3} / {fmt(cp.p50_ms):>8} / {fmt(cp.p99_ms):>8}"
        lines.append(f"{lp.name:<26}{left:>44}   {right:>44}")
    lines.append(
        f"{'breaker opened after':<26}{fmt(ladder['breaker_open_after_ms'], ' ms'):>44}   {'(no breaker)':>44}"
    )
    lines.append(
        f"{'primary serving again':<26}{fmt(ladder['primary_back_after_ms'], ' ms'):>44}   {fmt(chain['primary_back_after_ms'], ' ms'):>44}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fault", choices=("hang", "kill", "both"), default="both")
    ap.add_argument("--workers", type=int, default=2, help="concurrent searching clients")
    ap.add_argument(
        "--seconds", type=float, default=2.0, help="length of the before phase (the outage is 1.5x)"
    )
    ap.add_argument("--timeout-ms", type=float, default=200.0, help="the store client's own timeout")
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--json", default=None, help="also write every figure here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # breaker transitions are reported in the table instead

    policy = StepPolicy(timeout=None, retries=0, failure_threshold=5, recovery_timeout=1.0)
    faults = ["hang", "kill"] if args.fault == "both" else [args.fault]
    report: dict[str, Any] = {"config": vars(args), "policy": asdict(policy), "runs": {}}
    ok = True
    for fault in faults:
        world = make_world(args.records, args.dim, args.timeout_ms / 1000.0)
        ladder = run_ladder(world, fault, policy, args.seconds, args.workers)
        world = make_world(args.records, args.dim, args.timeout_ms / 1000.0)
        chain = run_fallbacks(world, fault, args.seconds, args.workers, ladder["split_at_ms"])
        open_phase, open_ref = ladder["phases"][2], ladder["reference"][2]
        failed = sum(p.failed for p in ladder["phases"])
        within = (
            open_phase.p99_ms is not None
            and open_ref.p99_ms is not None
            and open_phase.p99_ms <= open_ref.p99_ms + 1.0
        )
        ok = ok and failed == 0 and within
        what = f"hangs (store timeout {args.timeout_ms:g} ms)" if fault == "hang" else "is killed"
        print(table(f"\n== the primary {what}; {args.workers} clients ==", ladder, chain))
        refs = "; ".join(f"{p.name} {fmt(p.p50_ms)} / {fmt(p.p99_ms)}" for p in ladder["reference"])
        print(f"secondary alone (one-step ladder, interleaved), p50 / p99 ms -- {refs}")
        print(
            f"target: 0 failed searches -> {failed} failed; open-breaker p99 {fmt(open_phase.p99_ms, ' ms')} <= "
            f"{fmt(open_ref.p99_ms, ' ms')} + 1 ms -> {'PASS' if within and failed == 0 else 'FAIL'}"
        )
        report["runs"][fault] = {
            "ladder": {
                **ladder,
                "phases": [asdict(p) for p in ladder["phases"]],
                "reference": [asdict(p) for p in ladder["reference"]],
            },
            "with_fallbacks": {**chain, "phases": [asdict(p) for p in chain["phases"]]},
            "target_met": within and failed == 0,
        }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
        print(f"\nwrote {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
