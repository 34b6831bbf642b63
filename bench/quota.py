"""Embedding under a provider quota: vectorrouter's EmbeddingService vs LangChain's CacheBackedEmbeddings.

A real HTTP embedding endpoint runs on loopback (OpenAI-compatible ``POST /v1/embeddings``, a threaded
server in this file). It enforces a requests/min and a tokens/min quota with token buckets (refill at the
per-minute rate, a burst of ``--burst`` seconds) and answers 429 with ``Retry-After`` and ``retry-after-ms``
when a request does not fit, like OpenAI does. It bills tokens with its own word-piece rule (not our
estimator), and takes ``--latency`` seconds per request. Both contenders ingest the same synthetic corpus
through it:

* **vectorrouter**: ``EmbeddingService`` with the openai provider, told the quota (requests/tokens per minute
  and burst) in its model declaration; batches of 25, bulkhead of 5, Retry-After-aware retries.
* **LangChain**: ``CacheBackedEmbeddings.from_bytes_store(OpenAIEmbeddings(...), InMemoryByteStore())`` —
  the official OpenAI SDK client (its default 2 retries, honouring Retry-After), ``chunk_size=25``; the
  corpus is ingested in calls of 100 texts (a loader's batch) and a call that raises loses its texts.

Quota utilisation = texts embedded ÷ the most texts the quota admits in the same time
(``min(requests cap × 25, tokens cap ÷ mean tokens per text)`` where each cap is burst + rate × seconds).
It is printed over the client's wall clock and over the endpoint's admission window (first request's
arrival → last admission; the last response's latency is not quota time). The target applies to the latter.

A second part replays a Zipf-distributed stream of repeated query texts to measure how many provider calls
the cache avoids, and times Redis-cached lookups (L1 off, so every answer comes from Redis).

    .venv/bin/python bench/quota.py               # ~3 minutes
    .venv/bin/python bench/quota.py --scale 0.25 --json /tmp/quota.json
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from vectorrouter.embeddings import (
    EmbeddingService,
    GuardedLayer,
    HashEmbedder,
    LayeredCache,
    MemoryLayer,
    ModelSpec,
)
from vectorrouter.errors import VectorRouterError

DIMS = 256
MODEL = "text-embedding-3-small"
_WORD = re.compile(r"\w+|[^\w\s]")


def server_tokens(text: str) -> int:
    """The endpoint's billing rule: one token per word or punctuation mark."""
    return max(1, len(_WORD.findall(text)))


class Bucket:
    """Server-side token bucket (strict: a request either fits now or gets a 429)."""

    def __init__(self, per_minute: float, burst_seconds: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = self.rate * burst_seconds
        self.level = self.capacity
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, n: float) -> float:
        return 0.0 if self.level >= n else (n - self.level) / self.rate


@dataclass
class ServerStats:
    accepted: int = 0
    rejected_429: int = 0
    texts: int = 0
    tokens: int = 0
    first_arrival: float = 0.0
    last_admit: float = 0.0

    @property
    def window(self) -> float:
        """Seconds from the first request's arrival to the last admission: the time the quota was in use."""
        return self.last_admit - self.first_arrival


class QuotaServer:
    """OpenAI-compatible embeddings endpoint with a requests/min + tokens/min quota, on 127.0.0.1."""

    def __init__(self, rpm: float | None, tpm: float | None, burst: float, latency: float) -> None:
        self.requests = Bucket(rpm, burst) if rpm else None
        self.tokens = Bucket(tpm, burst) if tpm else None
        self.latency = latency
        self.stats = ServerStats()
        self.embedder = HashEmbedder(DIMS)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                status, headers, payload = server.handle(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> QuotaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if path != "/v1/embeddings":
            return 404, {}, {"error": {"message": f"unknown path {path}"}}
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        if not texts or len(texts) > 2048:
            return 400, {}, {"error": {"message": "'$.input' is invalid", "type": "invalid_request_error"}}
        cost = sum(server_tokens(t) for t in texts)
        with self._lock:
            now = time.monotonic()
            if not self.stats.first_arrival:
                self.stats.first_arrival = now
            waits = []
            for bucket, n in ((self.requests, 1.0), (self.tokens, float(cost))):
                if bucket is not None:
                    bucket.refill(now)
                    waits.append(bucket.wait_for(n))
            wait = max(waits, default=0.0)
            if wait > 0:
                self.stats.rejected_429 += 1
                headers = {"Retry-After": str(math.ceil(wait)), "retry-after-ms": str(math.ceil(wait * 1000))}
                message = f"Rate limit reached for {MODEL}. Please try again in {wait * 1000:.0f}ms."
                return (
                    429,
                    headers,
                    {"error": {"message": message, "type": "tokens", "code": "rate_limit_exceeded"}},
                )
            if self.requests is not None:
                self.requests.level -= 1
            if self.tokens is not None:
                self.tokens.level -= cost
            self.stats.accepted += 1
            self.stats.last_admit = now
            self.stats.texts += len(texts)
            self.stats.tokens += cost
        time.sleep(self.latency)  # the model's compute time; the quota was charged on arrival
        vectors = self.embedder.embed(texts, "document")
        if body.get("encoding_format") == "base64":
            rows: list[Any] = [base64.b64encode(v.astype("<f4").tobytes()).decode() for v in vectors]
        else:
            rows = vectors.tolist()
        data = [{"object": "embedding", "index": i, "embedding": r} for i, r in enumerate(rows)]
        return (
            200,
            {},
            {
                "object": "list",
                "data": data,
                "model": MODEL,
                "usage": {"prompt_tokens": cost, "total_tokens": cost},
            },
        )


def corpus(n: int, seed: int = 7) -> list[str]:
    """Distinct synthetic documents of 20–80 words with some punctuation."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(5000)
    ]
    docs = []
    for i in range(n):
        words = [rng.choice(vocab) for _ in range(rng.randint(20, 80))]
        for j in range(7, len(words), rng.randint(6, 14)):
            words[j] += rng.choice([",", ".", ";"])
        docs.append(f"doc {i}: " + " ".join(words) + ".")
    return docs


@dataclass
class QuotaRun:
    name: str
    texts_asked: int
    texts_embedded: int
    provider_calls: int
    rejected_429: int
    lost_texts: int
    wrong_vectors: int
    seconds: float
    texts_per_min: float
    quota_max_texts_per_min: float
    utilisation: float
    #: The same over the quota's admission window (first arrival → last admission), leaving out the
    #: client's start-up and the last response's latency, when there was nothing left to send.
    utilisation_window: float
    notes: str = ""
    errors: list[str] = field(default_factory=list)


def utilisation(
    texts: int, seconds: float, *, rpm: float, tpm: float, burst: float, mean_tokens: float, batch: int
) -> tuple[float, float]:
    """(quota's max texts/min at its rate, achieved ÷ most texts the quota admits in ``seconds``)."""
    by_requests = (rpm / 60 * (burst + seconds)) * batch
    by_tokens = (tpm / 60 * (burst + seconds)) / mean_tokens
    rate_max = min(rpm * batch, tpm / mean_tokens)
    return rate_max, texts / min(by_requests, by_tokens)


def check_vectors(texts: Sequence[str], got: np.ndarray) -> int:
    want = HashEmbedder(DIMS).embed(texts, "document")
    return int((~np.isclose(got, want, atol=1e-5).all(axis=1)).sum())


def run_vectorrouter(docs: list[str], args: argparse.Namespace) -> QuotaRun:
    with QuotaServer(args.rpm, args.tpm, args.burst, args.latency) as server:
        spec = ModelSpec(
            version="bench-3small",
            provider="openai",
            model=MODEL,
            dimensions=DIMS,
            requests_per_minute=args.rpm,
            tokens_per_minute=args.tpm,
            price_per_million=0.02,
            options={
                "base_url": server.url,
                "api_key": "bench",
                "send_dimensions": False,
                "quota_burst_seconds": args.burst,
            },
        )
        svc = EmbeddingService([spec], cache=LayeredCache([MemoryLayer(len(docs) + 10)]), retry_attempts=8)
        errors: list[str] = []
        started = time.perf_counter()
        out = None
        try:
            out = svc.embed(spec.version, docs, "document", tenant="bench", progress=None)
        except VectorRouterError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        seconds = time.perf_counter() - started  # verification below is not part of the ingest time
        lost, wrong = (0, check_vectors(docs, out)) if out is not None else (len(docs), 0)
        svc.close()
        stats = server.stats
    return summarise(
        "vectorrouter EmbeddingService",
        docs,
        stats,
        seconds,
        lost,
        wrong,
        "batches of 25, 5 concurrent, paced to the declared quota",
        errors,
        args,
    )


def summarise(
    name: str,
    docs: list[str],
    stats: Any,
    seconds: float,
    lost: int,
    wrong: int,
    note: str,
    errors: list[str],
    args: argparse.Namespace,
) -> QuotaRun:
    """One peer's row: throughput and quota utilisation over the run and over the server's busy window."""
    mean_tokens = statistics.fmean(server_tokens(d) for d in docs)
    quota = {"rpm": args.rpm, "tpm": args.tpm, "burst": args.burst, "mean_tokens": mean_tokens, "batch": 25}
    rate_max, util = utilisation(stats.texts, seconds, **quota)
    _, util_window = utilisation(stats.texts, stats.window, **quota)
    return QuotaRun(
        name,
        len(docs),
        len(docs) - lost,
        stats.accepted + stats.rejected_429,
        stats.rejected_429,
        lost,
        wrong,
        seconds,
        stats.texts / seconds * 60,
        rate_max,
        util,
        util_window,
        note,
        errors,
    )


def run_langchain(docs: list[str], args: argparse.Namespace) -> QuotaRun | None:
    try:
        from langchain_classic.embeddings import CacheBackedEmbeddings
        from langchain_core.stores import InMemoryByteStore
        from langchain_openai import OpenAIEmbeddings
    except ImportError as exc:
        Console(stderr=True).print(
            f"[yellow]LangChain peer skipped: {exc.name} is not installed (pip install -e '.[dev]')"
        )
        return None
    with QuotaServer(args.rpm, args.tpm, args.burst, args.latency) as server:
        client = OpenAIEmbeddings(
            model=MODEL,
            base_url=server.url,
            api_key="bench",
            chunk_size=25,  # type: ignore[arg-type]
            check_embedding_ctx_length=False,
            max_retries=2,
        )
        cached = CacheBackedEmbeddings.from_bytes_store(
            client, InMemoryByteStore(), namespace=MODEL, batch_size=25, key_encoder="sha256"
        )
        lost, wrong, errors = 0, 0, []
        answers: list[tuple[list[str], Any]] = []
        started = time.perf_counter()
        for i in range(0, len(docs), 100):
            chunk = docs[i : i + 100]
            try:
                answers.append((chunk, cached.embed_documents(chunk)))
            except Exception as exc:  # the peer's own exceptions: a loader batch that raises is lost
                lost += len(chunk)
                if len(errors) < 3:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
        seconds = time.perf_counter() - started
        wrong = sum(check_vectors(c, np.asarray(v, dtype=np.float32)) for c, v in answers)
        stats = server.stats
    return summarise(
        "LangChain CacheBackedEmbeddings(OpenAIEmbeddings)",
        docs,
        stats,
        seconds,
        lost,
        wrong,
        "official OpenAI SDK, chunk_size=25, max_retries=2",
        errors,
        args,
    )


def zipf_stream(distinct: int, draws: int, s: float, seed: int = 11) -> list[str]:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, distinct + 1) ** s
    picks = rng.choice(distinct, size=draws, p=weights / weights.sum())
    return [f"query {i}: how do I rotate the api key for tenant {i % 97}?" for i in picks]


def run_zipf(args: argparse.Namespace) -> dict[str, Any]:
    stream = zipf_stream(args.zipf_distinct, args.zipf_draws, args.zipf_s)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"vrbench:{uuid.uuid4().hex[:8]}:"
    result: dict[str, Any] = {
        "draws": len(stream),
        "distinct_in_stream": len(set(stream)),
        "zipf_s": args.zipf_s,
    }
    from vectorrouter.embeddings.cache_redis import RedisLayer
    from vectorrouter.embeddings.cache_sql import SQLiteStore

    with QuotaServer(None, None, 1.0, 0.0) as server, tempfile.TemporaryDirectory() as tmp:
        spec = ModelSpec(
            version="bench-zipf",
            provider="openai",
            model=MODEL,
            dimensions=DIMS,
            options={"base_url": server.url, "api_key": "bench", "send_dimensions": False},
        )
        redis_layer = RedisLayer.from_url(redis_url, prefix=prefix, ttl=600)
        try:
            redis_layer.client.ping()
            redis_ok = True
        except Exception as exc:
            Console(stderr=True).print(
                f"[yellow]Redis at {redis_url} unavailable ({exc}); Redis figures skipped"
            )
            redis_ok = False
        layers: list[Any] = [MemoryLayer(10_000)]
        if redis_ok:
            layers.append(GuardedLayer(redis_layer))
        layers.append(GuardedLayer(SQLiteStore(Path(tmp) / "cache.sqlite")))
        svc = EmbeddingService([spec], cache=LayeredCache(layers))
        for text in stream:
            svc.embed(spec.version, [text], "query")
        calls = server.stats.accepted
        svc.close()
        result["vectorrouter_provider_calls"] = calls
        result["vectorrouter_calls_avoided"] = 1 - calls / len(stream)

        try:
            from langchain_classic.embeddings import CacheBackedEmbeddings
            from langchain_core.stores import InMemoryByteStore
            from langchain_openai import OpenAIEmbeddings

            before = server.stats.accepted
            client = OpenAIEmbeddings(
                model=MODEL,
                base_url=server.url,
                api_key="bench",  # type: ignore[arg-type]
                check_embedding_ctx_length=False,
            )
            lc = CacheBackedEmbeddings.from_bytes_store(
                client, InMemoryByteStore(), namespace=MODEL, query_embedding_cache=True, key_encoder="sha256"
            )
            for text in stream:
                lc.embed_query(text)
            lc_calls = server.stats.accepted - before
            result["langchain_provider_calls"] = lc_calls
            result["langchain_calls_avoided"] = 1 - lc_calls / len(stream)
        except ImportError:
            pass

        if redis_ok:
            # L1 off: every lookup below is answered by Redis
            warm = sorted(set(stream))[:500]
            svc2 = EmbeddingService(
                [spec],
                cache=LayeredCache([GuardedLayer(RedisLayer.from_url(redis_url, prefix=prefix, ttl=600))]),
            )
            svc2.embed(spec.version, warm, "query")
            calls_before = server.stats.accepted
            lat = []
            for i in range(args.latency_samples):
                t = warm[i % len(warm)]
                t0 = time.perf_counter()
                svc2.embed(spec.version, [t], "query")
                lat.append((time.perf_counter() - t0) * 1000)
            assert server.stats.accepted == calls_before, "Redis timing must not reach the provider"
            svc2.close()
            svc3 = EmbeddingService([spec])
            svc3.embed(spec.version, warm[:1], "query")
            l1 = []
            for _ in range(args.latency_samples):
                t0 = time.perf_counter()
                svc3.embed(spec.version, warm[:1], "query")
                l1.append((time.perf_counter() - t0) * 1000)
            svc3.close()
            result["redis_hit_ms_p50"] = statistics.median(lat)
            result["redis_hit_ms_p99"] = float(np.percentile(lat, 99))
            result["memory_hit_ms_p50"] = statistics.median(l1)
            keys = list(redis_layer.client.scan_iter(f"{prefix}*"))
            for i in range(0, len(keys), 500):
                redis_layer.client.delete(*keys[i : i + 500])
        redis_layer.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="shrink or grow the corpus (1.0 ≈ 3 minutes)")
    p.add_argument("--rpm", type=float, default=1200.0, help="endpoint quota: requests per minute")
    p.add_argument("--tpm", type=float, default=600_000.0, help="endpoint quota: tokens per minute")
    p.add_argument("--burst", type=float, default=5.0, help="seconds of quota the endpoint admits at once")
    p.add_argument("--latency", type=float, default=0.2, help="endpoint seconds per request")
    p.add_argument("--zipf-distinct", type=int, default=2000)
    p.add_argument("--zipf-draws", type=int, default=20_000)
    p.add_argument("--zipf-s", type=float, default=1.1)
    p.add_argument("--latency-samples", type=int, default=3000)
    p.add_argument("--skip-langchain", action="store_true")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    console = Console()
    docs = corpus(max(100, int(8000 * args.scale)))
    mean_tokens = statistics.fmean(server_tokens(d) for d in docs)
    console.print(
        f"corpus: {len(docs):,} distinct texts, {mean_tokens:.1f} tokens each (endpoint count); quota "
        f"{args.rpm:g} req/min, {args.tpm:,.0f} tokens/min, burst {args.burst:g}s, {args.latency * 1000:.0f} ms/request"
    )
    runs = [run_vectorrouter(docs, args)]
    if not args.skip_langchain:
        peer = run_langchain(docs, args)
        if peer is not None:
            runs.append(peer)
    table = Table(title="ingest through a quota-enforcing endpoint")
    table.add_column("metric")
    for r in runs:
        table.add_column(r.name, justify="right")
    rows = [
        ("texts embedded", lambda r: f"{r.texts_embedded:,} / {r.texts_asked:,}"),
        ("provider calls (incl. 429s)", lambda r: f"{r.provider_calls:,}"),
        ("429s received", lambda r: f"{r.rejected_429:,}"),
        ("lost texts", lambda r: f"{r.lost_texts:,}"),
        ("wrong vectors", lambda r: f"{r.wrong_vectors:,}"),
        ("seconds", lambda r: f"{r.seconds:.1f}"),
        ("achieved texts/min", lambda r: f"{r.texts_per_min:,.0f}"),
        ("quota's max texts/min", lambda r: f"{r.quota_max_texts_per_min:,.0f}"),
        ("quota utilisation (wall clock)", lambda r: f"{r.utilisation:.1%}"),
        ("quota utilisation (admission window)", lambda r: f"{r.utilisation_window:.1%}"),
    ]
    for label, fmt in rows:
        table.add_row(label, *[fmt(r) for r in runs])
    console.print(table)
    for r in runs:
        for err in r.errors:
            console.print(f"[red]{r.name}: {err}")
    zipf = run_zipf(args)
    zt = Table(
        title=f"Zipf(s={args.zipf_s}) repeat workload: {zipf['draws']:,} single-text queries, {zipf['distinct_in_stream']:,} distinct"
    )
    zt.add_column("metric")
    zt.add_column("value", justify="right")
    zt.add_row("vectorrouter provider calls", f"{zipf['vectorrouter_provider_calls']:,}")
    zt.add_row("vectorrouter calls avoided by the cache", f"{zipf['vectorrouter_calls_avoided']:.1%}")
    if "langchain_provider_calls" in zipf:
        zt.add_row("LangChain (query cache on) provider calls", f"{zipf['langchain_provider_calls']:,}")
        zt.add_row("LangChain calls avoided", f"{zipf['langchain_calls_avoided']:.1%}")
    if "redis_hit_ms_p50" in zipf:
        zt.add_row(
            "Redis-cached embed() p50 / p99 (L1 off)",
            f"{zipf['redis_hit_ms_p50']:.3f} / {zipf['redis_hit_ms_p99']:.3f} ms",
        )
        zt.add_row("memory-cached embed() p50", f"{zipf['memory_hit_ms_p50']:.3f} ms")
    console.print(zt)
    ok = (
        runs[0].lost_texts == 0 and runs[0].utilisation >= 0.95 and zipf["vectorrouter_calls_avoided"] >= 0.90
    )
    ok = ok and zipf.get("redis_hit_ms_p50", 0.0) < 1.0
    console.print(
        f"targets (≥95% utilisation, 0 lost, ≥90% calls avoided, Redis p50 < 1 ms): {'met' if ok else 'NOT met'}"
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "args": vars(args) | {"json": str(args.json)},
                    "quota": [asdict(r) for r in runs],
                    "zipf": zipf,
                },
                indent=2,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
