"""Engine benchmark: the Router over Qdrant Edge against its peers, on clustered 384-d vectors.

For each size it generates a Gaussian mixture (fixed seed), computes the exact top-10 of every query with
numpy, and measures in one run:

- **router**: ``Router.search(ns, vector=q, mode="dense")`` on a Router whose index is Qdrant Edge;
- **edge-backend**: ``QdrantEdgeBackend.search`` on that index (the adapter without the router);
- **edge-direct**: the very same Edge shard queried directly with the same request (namespace condition,
  ``hnsw_ef``, payload) — the gap to the router is the router's overhead, split by edge-backend into
  what the adapter adds and what ``Router.search`` adds;
- **qdrant-client-local**: qdrant-client's local mode with the same layout and namespace filter;
- **numpy-exact**: brute force over an in-memory matrix.

Router and edge-direct queries run in interleaved blocks (ABBA) so machine noise hits both alike. Targets (at
100k): router p50 ≤ 1.5 ms, router recall@10 ≥ 0.95, router p50 ≤ 1.05 × edge-direct p50. A second pass puts
the shard behind a stamping proxy and prints, for those three peers, the median time before, inside and after
the engine call (informational; the JSON carries it as ``phases_us``).

    python bench/engine.py --sizes 100000 --queries 500 --json bench/results/engine.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import qdrant_edge as qe
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from vectorrouter import Router
from vectorrouter.backends import make_vector_factory
from vectorrouter.backends.qdrant_edge import QdrantEdgeBackend
from vectorrouter.embeddings import EmbeddingService, ModelSpec
from vectorrouter.types import Record

DIM = 384
NS = "bench:docs:bench-384"
DECOY_NS = "other:docs:bench-384"
K = 10
MODEL = ModelSpec(version="bench-384", provider="hash", dimensions=DIM)  # vectors are precomputed
TARGET_P50_MS = 1.5
TARGET_RECALL = 0.95
TARGET_OVERHEAD = 0.05
BLOCK = 25
T = TypeVar("T")


@dataclass
class PeerResult:
    peer: str
    n: int
    ingest_s: float
    index_s: float
    p50_ms: float
    p99_ms: float
    recall: float
    queries: int
    note: str = ""
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    #: Median µs before, inside and after the engine call (router, edge-backend and edge-direct only).
    phases_us: dict[str, float] | None = None


def mixture(
    n: int, queries: int, seed: int, clusters: int = 256, spread: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around ``clusters`` random centres; queries come from the same mixture."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, DIM)).astype(np.float32)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, DIM), dtype=np.float32)
        for start in range(0, m, 100_000):
            stop = min(m, start + 100_000)
            rows = centres[rng.integers(0, clusters, stop - start)]
            rows += spread * rng.normal(size=rows.shape).astype(np.float32)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            out[start:stop] = rows
        return out

    return draw(n), draw(queries)


def exact_topk(data: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(data), 200_000):
        scores = queries @ data[start : start + 200_000].T
        cand = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        s = np.take_along_axis(scores, cand, axis=1)
        all_s, all_i = np.hstack([best_s, s]), np.hstack([best_i, cand + start])
        keep = np.argsort(-all_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(all_s, keep, axis=1), np.take_along_axis(all_i, keep, axis=1)
    return best_i


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)]))


def percentiles(lat: list[float]) -> tuple[float, float]:
    return float(np.percentile(lat, 50)), float(np.percentile(lat, 99))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000.0


def bench_router_and_direct(
    data: np.ndarray, queries: np.ndarray, truth: np.ndarray, options: dict[str, Any], workdir: Path
) -> list[PeerResult]:
    router = Router(
        embeddings=EmbeddingService([MODEL]),
        vector_factory=make_vector_factory("qdrant-edge", workdir / "vectors", options),
        default_model=MODEL.version,
    )
    try:
        started = time.perf_counter()
        router.ingest(NS, (Record(id=str(i), vector=row) for i, row in enumerate(data)), batch_size=1000)
        decoys = np.random.default_rng(99).normal(size=(1000, DIM)).astype(np.float32)
        router.ingest(
            DECOY_NS, (Record(id=f"d{i}", vector=row) for i, row in enumerate(decoys)), batch_size=1000
        )
        ingest_s = time.perf_counter() - started
        backend = router.indexes.for_model(MODEL)
        assert isinstance(backend, QdrantEdgeBackend)
        started = time.perf_counter()
        backend.build_index(wait=True)
        index_s = time.perf_counter() - started
        status = backend.index_status()

        # the very shard the router searches, queried with the request the backend would send
        shard = backend._store._shard
        ns_filter = qe.Filter(must=[qe.FieldCondition(key="_vr_ns", match=qe.MatchValue(NS))])
        params = qe.SearchParams(hnsw_ef=backend.options.hnsw_ef)

        def direct(q: list[float], engine: Any = shard) -> list[int]:
            req = qe.QueryRequest(
                limit=K, query=qe.Query.Nearest(q), filter=ns_filter, with_payload=True, params=params
            )
            return [int(p.payload["_vr_id"]) for p in engine.query(req)]

        def routed(q: list[float]) -> list[int]:
            return [int(h.id) for h in router.search(NS, vector=q, k=K, mode="dense").hits]

        def adapter(q: list[float]) -> list[int]:
            return [int(h.id) for h in backend.search(NS, q, K)]

        qlists = queries.tolist()
        for q in qlists[:50]:  # warm caches and the page cache for every peer
            direct(q)
            adapter(q)
            routed(q)
        runs: dict[str, tuple[list[float], list[list[int]]]] = {
            name: ([], []) for name in ("router", "edge-backend", "edge-direct")
        }
        peers = [(routed, *runs["router"]), (adapter, *runs["edge-backend"]), (direct, *runs["edge-direct"])]
        for (fn, lat, found), q in interleaved(peers, qlists):
            ids, ms = timed(lambda fn=fn, q=q: fn(q))
            lat.append(ms)
            found.append(ids)
        phases = engine_phases(backend, qlists, {"router": routed, "edge-backend": adapter}, direct)
        notes = {
            "router": f"{status['indexed_vectors']}/{status['points']} vectors in HNSW, {status['segments']} segments",
            "edge-backend": "QdrantEdgeBackend.search on the same index (adapter, no router)",
            "edge-direct": "the same shard and engine request, no adapter",
        }
        out = []
        for name, (lat, found) in runs.items():
            p50, p99 = percentiles(lat)
            out.append(
                PeerResult(
                    name,
                    len(data),
                    ingest_s,
                    index_s,
                    p50,
                    p99,
                    recall(found, truth),
                    len(lat),
                    notes[name],
                    lat,
                    phases[name],
                )
            )
        return out
    finally:
        router.close()


def interleaved(peers: Sequence[T], qlists: list[list[float]]) -> Iterator[tuple[T, list[float]]]:
    """``(peer, query)`` in blocks of BLOCK queries, the peers taking turns to go first: machine noise hits all
    alike, and no peer runs a query right after another ran it with the graph still in the CPU cache."""
    for b, start in enumerate(range(0, len(qlists), BLOCK)):
        turn = b % len(peers)
        for peer in [*peers[turn:], *peers[:turn]]:
            for q in qlists[start : start + BLOCK]:
                yield peer, q


class _EngineStamps:
    """Stands in for the Edge shard during the phase pass, stamping when each engine call starts and ends."""

    def __init__(self, shard: Any) -> None:
        self.shard = shard
        self.start = self.end = 0.0

    def query(self, request: Any) -> Any:
        self.start = time.perf_counter()
        try:
            return self.shard.query(request)
        finally:
            self.end = time.perf_counter()


def engine_phases(
    backend: QdrantEdgeBackend,
    qlists: list[list[float]],
    peers: dict[str, Callable[[list[float]], object]],
    direct: Callable[[list[float], Any], object],
) -> dict[str, dict[str, float]]:
    """Where each peer's time goes: median µs before the engine call, inside it and after it.

    A second pass over the queries (interleaved blocks again) with the shard behind a stamping proxy; the
    proxy costs every peer the same two clock reads. The router's overhead is not only its Python: the
    engine call itself is slower when more Python runs around it, and this table shows by how much.
    """
    store = backend._store
    stamps = _EngineStamps(store._shard)
    everyone = {**peers, "edge-direct": lambda q: direct(q, stamps)}
    split: dict[str, list[tuple[float, float, float]]] = {name: [] for name in everyone}
    store._shard = stamps
    try:
        for (name, fn), q in interleaved(list(everyone.items()), qlists):
            began = time.perf_counter()
            fn(q)
            ended = time.perf_counter()
            split[name].append((stamps.start - began, stamps.end - stamps.start, ended - stamps.end))
    finally:
        store._shard = stamps.shard
    return {
        name: dict(zip(("before", "engine", "after"), (np.median(rows, axis=0) * 1e6).tolist(), strict=True))
        for name, rows in split.items()
    }


def bench_client_local(data: np.ndarray, queries: np.ndarray, cap: int, max_queries: int) -> PeerResult:
    n = min(len(data), cap)
    subset = data[:n]
    truth = exact_topk(subset, queries[:max_queries])
    client = QdrantClient(location=":memory:")
    try:
        client.create_collection(
            "bench", vectors_config=qm.VectorParams(size=DIM, distance=qm.Distance.COSINE)
        )
        started = time.perf_counter()
        for start in range(0, n, 1000):
            rows = subset[start : start + 1000]
            client.upsert(
                "bench",
                points=[
                    qm.PointStruct(
                        id=start + j, vector=row.tolist(), payload={"_vr_ns": NS, "_vr_id": str(start + j)}
                    )
                    for j, row in enumerate(rows)
                ],
                wait=True,
            )
        ingest_s = time.perf_counter() - started
        flt = qm.Filter(must=[qm.FieldCondition(key="_vr_ns", match=qm.MatchValue(value=NS))])
        lat, found = [], []
        for q in queries[:max_queries].tolist():
            res, ms = timed(
                lambda q=q: client.query_points(
                    "bench", query=q, query_filter=flt, limit=K, with_payload=True
                )
            )
            lat.append(ms)
            found.append([int(p.payload["_vr_id"]) for p in res.points])  # type: ignore[index]
        p50, p99 = percentiles(lat)
        notes = ["exact search in Python"]
        if n < len(data):
            notes.append(f"ingest capped at {n:,} (recall vs that subset)")
        if max_queries < len(queries):
            notes.append(f"{max_queries} queries")
        return PeerResult(
            "qdrant-client-local",
            n,
            ingest_s,
            0.0,
            p50,
            p99,
            recall(found, truth),
            len(lat),
            "; ".join(notes),
            lat,
        )
    finally:
        client.close()


def bench_numpy(data: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> PeerResult:
    started = time.perf_counter()
    matrix = np.ascontiguousarray(data / np.linalg.norm(data, axis=1, keepdims=True), dtype=np.float32)
    ingest_s = time.perf_counter() - started
    lat, found = [], []
    for q in queries:

        def one(q: np.ndarray = q) -> list[int]:
            scores = matrix @ q
            top = np.argpartition(-scores, K - 1)[:K]
            return top[np.argsort(-scores[top])].tolist()  # type: ignore[no-any-return]

        ids, ms = timed(one)
        lat.append(ms)
        found.append(ids)
    p50, p99 = percentiles(lat)
    return PeerResult(
        "numpy-exact",
        len(data),
        ingest_s,
        0.0,
        p50,
        p99,
        recall(found, truth),
        len(lat),
        "brute force, one matrix",
    )


def table(results: list[PeerResult]) -> str:
    head = f"{'size':>9}  {'peer':<20} {'ingest s':>9} {'index s':>8} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>9} {'queries':>7}  note"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.n:>9,}  {r.peer:<20} {r.ingest_s:>9.1f} {r.index_s:>8.1f} {r.p50_ms:>8.3f} {r.p99_ms:>8.3f}"
            f" {r.recall:>9.3f} {r.queries:>7}  {r.note}"
        )
    return "\n".join(lines)


def phase_table(results: list[PeerResult]) -> str:
    lines = ["   where the time goes, median µs (second pass, engine behind a stamping proxy):"]
    lines.append(f"   {'peer':<14} {'before':>8} {'engine':>8} {'after':>8}")
    for r in results:
        if r.phases_us is not None:
            ph = r.phases_us
            lines.append(f"   {r.peer:<14} {ph['before']:>8.1f} {ph['engine']:>8.1f} {ph['after']:>8.1f}")
    return "\n".join(lines)


def check_targets(results: list[PeerResult]) -> dict[str, Any]:
    by = {r.peer: r for r in results}
    router, adapter, direct = by["router"], by["edge-backend"], by["edge-direct"]
    overhead = router.p50_ms / direct.p50_ms - 1.0
    return {
        "router_p50_ms": {
            "value": router.p50_ms,
            "target": TARGET_P50_MS,
            "met": router.p50_ms <= TARGET_P50_MS,
        },
        "router_recall_at_10": {
            "value": router.recall,
            "target": TARGET_RECALL,
            "met": router.recall >= TARGET_RECALL,
        },
        "router_overhead_vs_direct_p50": {
            "value": overhead,
            "target": TARGET_OVERHEAD,
            "met": overhead <= TARGET_OVERHEAD,
        },
        # where the overhead sits (informational): in the adapter, and in Router.search itself
        "adapter_p50_over_direct_ms": {"value": adapter.p50_ms - direct.p50_ms},
        "router_p50_over_adapter_ms": {"value": router.p50_ms - adapter.p50_ms},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument(
        "--client-queries", type=int, default=50, help="queries for qdrant-client local mode (slow)"
    )
    ap.add_argument(
        "--client-cap", type=int, default=200_000, help="largest ingest for qdrant-client local mode"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construct", type=int, default=128)
    ap.add_argument("--hnsw-ef", type=int, default=64)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", UserWarning)  # qdrant-client local mode warns that it is local
    options = {"m": args.m, "ef_construct": args.ef_construct, "hnsw_ef": args.hnsw_ef, "auto_index": False}
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "params": {"dim": DIM, "k": K, "queries": args.queries, "seed": args.seed, **options},
        "sizes": {},
    }
    all_results: list[PeerResult] = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        print(f"\n== {n:,} vectors: generating and computing exact top-{K} ...", flush=True)
        data, queries = mixture(n, args.queries, args.seed)
        truth = exact_topk(data, queries)
        workdir = Path(tempfile.mkdtemp(prefix="vr-bench-"))
        try:
            results = bench_router_and_direct(data, queries, truth, options, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print("   router and edge-direct done", flush=True)
        results.append(
            bench_client_local(data, queries, args.client_cap, min(args.client_queries, args.queries))
        )
        print("   qdrant-client local mode done", flush=True)
        results.append(bench_numpy(data, queries, truth))
        all_results += results
        targets = check_targets(results)
        print(table(results))
        print(phase_table(results))
        for name, t in targets.items():
            if "target" not in t:
                print(f"   {name}: {t['value']:.3f}")
                continue
            cmp = "≤" if name != "router_recall_at_10" else "≥"
            verdict = "MET" if t["met"] else "MISSED"
            print(f"   target {name}: {t['value']:.3f} {cmp} {t['target']} -> {verdict}")
        report["sizes"][str(n)] = {
            "results": [{k: v for k, v in asdict(r).items() if k != "latencies_ms"} for r in results],
            "targets": targets,
        }
    print("\n" + table(all_results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
