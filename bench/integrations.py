"""What the LangChain and LlamaIndex integrations cost over the core, and that they lose no retrieval quality.

Overhead (default): interleaved p50 latency of each integration's search call over ``Router.search`` on the same embedded
router, beside langchain-qdrant and llama-index-vector-stores-qdrant over *their* core call (qdrant-client's
``query_points``) on one qdrant-client local-mode collection holding the same corpus. Every stack embeds queries
with the same embedder: by default a deterministic 384-d hashing embedder (microseconds per query, so the
figures are glue against a sub-millisecond core: the strict case), or ``--model minilm`` (the embedded default
model, what an application actually runs). Target: each integration's store search adds at most 10% p50 over
the core.

    .venv/bin/python bench/integrations.py                          # overhead table
    .venv/bin/python bench/integrations.py --json out.json
    .venv/bin/python bench/integrations.py --model minilm --docs 1000 --queries 50

Quality (``--quality``): BEIR SciFact answered through a LangChain LCEL chain (retriever | prompt | fake LLM)
and two LlamaIndex query engines (``RetrieverQueryEngine`` over our retriever, and ``VectorStoreIndex`` over our
store), nDCG@10 computed from the documents each one retrieved, beside the core evaluation of the same
namespace. Target: within 0.005 of the core. Runs with the hashing embedder (dense figures are then low in
absolute terms; parity is what is measured) and keyword/hybrid/dense modes.

    .venv/bin/python bench/integrations.py --quality --data /work/shared/datasets/scifact
"""

from __future__ import annotations

import os

# One query is one matrix-vector product: BLAS threads only add contention (14x slower p50 on a loaded 2-core
# machine), and every stack here pays the same numpy, so pin them before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from vectorrouter import DEFAULT_MODEL, ModelSpec, Router  # noqa: E402
from vectorrouter.backends import make_vector_factory  # noqa: E402
from vectorrouter.backends.tantivy_keyword import TantivyBackend  # noqa: E402
from vectorrouter.embeddings import EmbeddingService, HashEmbedder, create_embedder  # noqa: E402
from vectorrouter.evaluation import evaluate, load_beir, ndcg_at_k, rank_run  # noqa: E402
from vectorrouter.types import SearchMode  # noqa: E402

HASH_384 = ModelSpec(version="hash-384", provider="hash", dimensions=384)
TARGET_OVERHEAD = 0.10
TARGET_NDCG_GAP = 0.005
NAMESPACE = "bench:integrations"
_WORDS = [
    "ice",
    "glacier",
    "river",
    "ocean",
    "salt",
    "storm",
    "cloud",
    "engine",
    "vector",
    "search",
    "index",
    "query",
    "router",
    "fallback",
    "cache",
    "tenant",
    "model",
    "version",
    "cosine",
    "keyword",
    "fusion",
    "shard",
    "replica",
    "region",
    "latency",
    "quota",
    "token",
    "budget",
    "policy",
    "breaker",
    "retry",
    "timeout",
    "protein",
    "cell",
    "gene",
    "trial",
    "dose",
    "patient",
    "risk",
    "cohort",
    "signal",
    "noise",
]


def vector_kind() -> str:
    return "qdrant-edge" if importlib.util.find_spec("vectorrouter.backends.qdrant_edge") else "numpy"


def make_router(kind: str | None = None, model: ModelSpec = HASH_384) -> Router:
    return Router(
        embeddings=EmbeddingService([model]),
        vector_factory=make_vector_factory(kind or vector_kind(), None),
        keyword=TantivyBackend(),
        default_model=model.version,
    )


def corpus(n: int, seed: int = 7) -> list[tuple[str, str, dict[str, Any]]]:
    rng = random.Random(seed)
    return [
        (f"d{i}", " ".join(rng.choice(_WORDS) for _ in range(40)), {"year": 2000 + i % 25, "lang": "en"})
        for i in range(n)
    ]


def queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(4)) for _ in range(n)]


# -- overhead -------------------------------------------------------------------------------------
def p50s_us(fns: dict[str, Callable[[str], Any]], qs: list[str], rounds: int) -> dict[str, float]:
    """p50 per call, interleaved: each query runs every call in a rotating order, so load drift on a shared
    machine lands on all of them alike instead of on whichever ran last."""
    names = list(fns)
    for q in qs[:10]:
        for name in names:
            fns[name](q)  # warm caches and lazy imports
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for i, q in enumerate(qs):
            shift = (i + r) % len(names)
            for name in names[shift:] + names[:shift]:
                t = time.perf_counter_ns()
                fns[name](q)
                samples[name].append((time.perf_counter_ns() - t) / 1000.0)
    return {name: statistics.median(v) for name, v in samples.items()}


def _ours(router: Router, mode: SearchMode) -> dict[str, Callable[[str], Any]]:
    from langchain_vectorrouter import VectorRouterRetriever, VectorRouterStore
    from llama_index.core import VectorStoreIndex
    from llama_index.core.vector_stores.types import VectorStoreQuery
    from llama_index.retrievers.vectorrouter import VectorRouterRetriever as LlamaRetriever
    from llama_index.vector_stores.vectorrouter import VectorRouterEmbedding, VectorRouterVectorStore

    lc_store = VectorRouterStore(router=router, namespace=NAMESPACE, mode=mode)
    lc_retriever = VectorRouterRetriever(router=router, namespace=NAMESPACE, k=10, mode=mode)
    li_store = VectorRouterVectorStore(router=router, namespace=NAMESPACE, mode=mode)
    li_retriever = LlamaRetriever(router, NAMESPACE, similarity_top_k=10, mode=mode)
    li_index = VectorStoreIndex.from_vector_store(
        li_store, embed_model=VectorRouterEmbedding(router, NAMESPACE)
    )
    li_index_retriever = li_index.as_retriever(similarity_top_k=10)
    return {
        "core  Router.search": lambda q: router.search(NAMESPACE, q, k=10, mode=mode),
        "langchain  VectorRouterStore.similarity_search": lambda q: lc_store.similarity_search(q, k=10),
        "langchain  VectorRouterRetriever.invoke": lc_retriever.invoke,
        "llama-index  VectorRouterVectorStore.query": lambda q: li_store.query(
            VectorStoreQuery(query_str=q, similarity_top_k=10)
        ),
        "llama-index  VectorRouterRetriever.retrieve": li_retriever.retrieve,
        "llama-index  VectorStoreIndex(our store).as_retriever().retrieve": li_index_retriever.retrieve,
    }


def _peers(docs: list[tuple[str, str, dict[str, Any]]], model: ModelSpec) -> dict[str, Callable[[str], Any]]:
    import uuid

    from langchain_core.embeddings import Embeddings
    from langchain_qdrant import QdrantVectorStore as LangChainQdrant
    from llama_index.core import VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.vector_stores.types import VectorStoreQuery
    from llama_index.vector_stores.qdrant import QdrantVectorStore as LlamaQdrant
    from qdrant_client import QdrantClient, models

    hasher: Any = HashEmbedder(model.dimensions) if model.provider == "hash" else create_embedder(model)

    def embed(text: str) -> list[float]:
        return [float(x) for x in hasher.embed([text], "query")[0]]

    class LCHash(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in row] for row in hasher.embed(texts, "document")]

        def embed_query(self, text: str) -> list[float]:
            return embed(text)

    class LIHash(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embed(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embed(text)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return embed(query)

    client = QdrantClient(":memory:")
    vectors = hasher.embed([t for _, t, _ in docs], "document")
    for name, payload_of in (
        ("lc", lambda i, t, m: {"page_content": t, "metadata": {**m, "id": i}}),
        ("li", lambda i, t, m: {"text": t, **m, "doc_id": i, "document_id": i, "ref_doc_id": i}),
    ):
        client.create_collection(
            name, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE)
        )
        client.upsert(
            name,
            [
                models.PointStruct(
                    id=str(uuid.uuid5(uuid.NAMESPACE_URL, i)), vector=v.tolist(), payload=payload_of(i, t, m)
                )
                for (i, t, m), v in zip(docs, vectors, strict=True)
            ],
        )
    lc = LangChainQdrant(client=client, collection_name="lc", embedding=LCHash())
    li = LlamaQdrant(collection_name="li", client=client)
    li_index = VectorStoreIndex.from_vector_store(li, embed_model=LIHash())
    li_retriever = li_index.as_retriever(similarity_top_k=10)
    return {
        "qdrant-client  embed + query_points": lambda q: client.query_points("lc", query=embed(q), limit=10),
        "langchain-qdrant  QdrantVectorStore.similarity_search": lambda q: lc.similarity_search(q, k=10),
        "llama-index-vector-stores-qdrant  QdrantVectorStore.query": lambda q: li.query(
            VectorStoreQuery(query_embedding=embed(q), similarity_top_k=10)
        ),
        "llama-index-vector-stores-qdrant  VectorStoreIndex.as_retriever().retrieve": li_retriever.retrieve,
    }


def overhead(
    n_docs: int, n_queries: int, rounds: int, modes: list[SearchMode], model: ModelSpec
) -> dict[str, Any]:
    docs = corpus(n_docs)
    qs = queries(n_queries)
    router = make_router(model=model)
    router.ingest(NAMESPACE, [{"id": i, "text": t, "metadata": m} for i, t, m in docs], progress=False)
    out: dict[str, Any] = {
        "documents": n_docs,
        "queries": n_queries,
        "rounds": rounds,
        "engine": vector_kind(),
        "model": model.version,
    }
    for mode in modes:
        out[f"ours_{mode}"] = p50s_us(_ours(router, mode), qs, rounds)
    router.close()
    out["peers_dense"] = p50s_us(_peers(docs, model), qs, rounds)
    return out


def _overhead_table(figures: dict[str, Any]) -> tuple[list[str], bool]:
    lines, met = [], True
    head = ["call", "p50 µs", "added µs", "added %", "target"]
    table = [head]
    for key, rows in figures.items():
        if not isinstance(rows, dict):
            continue
        base_name = next(iter(rows))
        base = rows[base_name]
        table.append([f"[{key}]", "", "", "", ""])
        for name, p50 in rows.items():
            added = p50 - base
            judged = key.startswith("ours") and name.split()[1].startswith("VectorRouter") and "Store" in name
            ok = added / base <= TARGET_OVERHEAD
            met &= ok or not judged
            table.append(
                [
                    name,
                    f"{p50:.0f}",
                    "-" if name == base_name else f"{added:+.0f}",
                    "-" if name == base_name else f"{100 * added / base:+.1f}%",
                    ("met" if ok else "NOT met") if judged else "",
                ]
            )
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, row in enumerate(table):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines, met


# -- quality --------------------------------------------------------------------------------------
def quality(data: Path, split: str, modes: list[SearchMode]) -> dict[str, Any]:
    from langchain_core.language_models import FakeListLLM
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnablePassthrough
    from langchain_vectorrouter import VectorRouterRetriever
    from llama_index.core import Settings, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine
    from llama_index.retrievers.vectorrouter import VectorRouterRetriever as LlamaRetriever
    from llama_index.vector_stores.vectorrouter import VectorRouterEmbedding, VectorRouterVectorStore

    dataset = load_beir(data, split=split)
    router = make_router("numpy")
    report = evaluate(router, dataset, modes=modes, k=10, namespace="eval:scifact")
    ns = report.namespace
    judged = dataset.judged_queries()
    Settings.llm = MockLLM(max_tokens=8)
    prompt = ChatPromptTemplate.from_template("Answer from the context.\n{context}\n\nClaim: {question}")
    out: dict[str, Any] = {"dataset": dataset.name, "split": split, "queries": len(judged), "namespace": ns}

    def ndcg(ranked_by_query: dict[str, dict[str, float]]) -> float:
        scores = [ndcg_at_k(rank_run(ranked_by_query[q.id]), dataset.qrels[q.id], 10) for q in judged]
        return sum(scores) / len(scores)

    for mode in modes:
        lc_retriever = VectorRouterRetriever(router=router, namespace=ns, k=10, mode=mode)
        chain = {"context": lc_retriever, "question": RunnablePassthrough()} | RunnablePassthrough.assign(
            answer=prompt | FakeListLLM(responses=["supported"])
        )
        lc_runs = {}
        for q in judged:
            result = chain.invoke(q.text)
            lc_runs[q.id] = {d.id or "": d.metadata["vectorrouter"]["score"] for d in result["context"]}
        engine = RetrieverQueryEngine.from_args(LlamaRetriever(router, ns, similarity_top_k=10, mode=mode))
        store = VectorRouterVectorStore(router=router, namespace=ns, mode=mode)
        index_engine = VectorStoreIndex.from_vector_store(
            store, embed_model=VectorRouterEmbedding(router, ns)
        ).as_query_engine(similarity_top_k=10)
        li_runs, ix_runs = {}, {}
        for q in judged:
            li_runs[q.id] = {n.node.node_id: n.score or 0.0 for n in engine.query(q.text).source_nodes}
            ix_runs[q.id] = {n.node.node_id: n.score or 0.0 for n in index_engine.query(q.text).source_nodes}
        out[mode] = {
            "core": report.scores[mode].ndcg,
            "langchain LCEL chain": ndcg(lc_runs),
            "llama-index RetrieverQueryEngine": ndcg(li_runs),
            "llama-index VectorStoreIndex query engine": ndcg(ix_runs),
        }
    router.close()
    return out


def _quality_table(figures: dict[str, Any], modes: list[str]) -> tuple[list[str], bool]:
    met = True
    lines = [
        f"{figures['dataset']} ({figures['split']}): {figures['queries']} queries, namespace {figures['namespace']}"
    ]
    head = ["mode", "path", "nDCG@10", "vs core", "target"]
    table = [head]
    for mode in modes:
        core = figures[mode]["core"]
        for path, value in figures[mode].items():
            gap = value - core
            ok = abs(gap) <= TARGET_NDCG_GAP
            met &= ok
            table.append([mode, path, f"{value:.4f}", "-" if path == "core" else f"{gap:+.4f}",
                          "" if path == "core" else ("met" if ok else "NOT met")])  # fmt: skip
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, row in enumerate(table):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines, met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=5000, help="synthetic corpus size for the overhead run")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="dense,hybrid", help="our search modes to time")
    parser.add_argument(
        "--model",
        choices=("hash", "minilm"),
        default="hash",
        help="query embedder: the 384-d hashing embedder (glue-dominated, the strict case) or MiniLM (the default)",
    )
    parser.add_argument("--quality", action="store_true", help="run the SciFact parity check instead")
    parser.add_argument("--data", type=Path, default=Path("/work/shared/datasets/scifact"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    modes: list[SearchMode] = [m for m in args.modes.split(",") if m]  # type: ignore[misc]

    if args.quality:
        qmodes: list[SearchMode] = ["keyword", "hybrid", "dense"] if args.modes == "dense,hybrid" else modes
        figures = quality(args.data, args.split, qmodes)
        lines, met = _quality_table(figures, list(qmodes))
        print("\n".join(lines))
        print(f"\ntarget |nDCG@10 - core| <= {TARGET_NDCG_GAP}: {'met' if met else 'NOT met'}")
        figures.update(benchmark="integrations_quality", target_gap=TARGET_NDCG_GAP, met=met)
    else:
        model = HASH_384 if args.model == "hash" else DEFAULT_MODEL
        figures = overhead(args.docs, args.queries, args.rounds, modes, model)
        print(
            f"{args.docs} synthetic documents, {args.queries} queries x {args.rounds} rounds (interleaved), k=10, "
            f"model {model.version}; ours on {figures['engine']} + tantivy, "
            "peers on qdrant-client local mode (in memory)"
        )
        lines, met = _overhead_table(figures)
        print("\n".join(lines))
        print(
            f"\ntarget: each integration's store search adds <= {TARGET_OVERHEAD:.0%} p50: {'met' if met else 'NOT met'}"
        )
        figures.update(benchmark="integrations_overhead", target_overhead=TARGET_OVERHEAD, met=met)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True))
        print(f"wrote {args.json}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
