"""The demo: two tenants on the embedded default, ingested and searched in a couple of minutes.

Tenant ``acme`` gets the project's own documentation split into chunks; tenant ``globex`` gets a product
support FAQ. Both ship inside the package, so the demo needs no server, no API key and no network.
"""

from __future__ import annotations

import tempfile
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vectorrouter.cli.common import plain
from vectorrouter.cli.render import namespaces_table, result_table, snippet
from vectorrouter.embeddings import DEFAULT_MODEL, ModelSpec
from vectorrouter.loaders import load_path
from vectorrouter.router import Router
from vectorrouter.types import Record

__all__ = ["demo_corpus", "run_demo"]

QUERIES = [
    ("acme:handbook", "how are namespaces mapped to physical indexes?", None),
    ("globex:support", "my data must stay in the EU", None),
    ("globex:support", "radiator valve keeps clicking", {"product": "Valve"}),
]


def demo_corpus() -> dict[str, list[Record]]:
    """The shipped corpus: logical namespace → records."""
    root = resources.files("vectorrouter") / "data" / "demo"
    with resources.as_file(root) as base:
        handbook = load_path(Path(base) / "handbook", max_chars=900)
        support = load_path(Path(base) / "support_faq.jsonl")
    return {"acme:handbook": handbook, "globex:support": support}


def run_demo(
    path: Path | None = None, *, model: ModelSpec = DEFAULT_MODEL, console: Console | None = None
) -> dict[str, float]:
    """Ingest the corpus for two tenants, then show namespaces and dense/keyword/hybrid searches.

    Returns timings in seconds (``load``, ``ingest``, ``search``, ``total``) for tests and benchmarks.
    """
    out = console or Console(emoji=False)  # namespaces like acme:notes:v1 hold emoji codes
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vectorrouter-demo-") as tmp:
        root = path or Path(tmp)
        out.rule("[bold]vectorrouter demo")
        out.print(
            f"Embedded default under [cyan]{escape(str(root))}[/cyan]: Qdrant Edge (vectors) + tantivy (BM25) + "
            f"{escape(model.model or model.provider)} ({model.dimensions}-d). No server, no API key, no network.\n",
            emoji=False,  # a caller's console may have emoji codes on
        )
        corpus = demo_corpus()
        with Router.embedded(root, model=model) as router:
            t0 = time.perf_counter()
            router.embeddings.embed(model.version, ["warm-up"], "query")  # load the model once, timed apart
            loaded = time.perf_counter() - t0
            out.print(f"model loaded in {loaded:.1f}s")

            t0 = time.perf_counter()
            for logical, records in corpus.items():
                report = router.ingest(logical, records, progress=out.is_terminal)
                out.print(
                    f"  {report.written:4d} chunks → [bold]{escape(report.namespace)}[/bold] ({report.seconds:.1f}s)",
                    emoji=False,
                )
            ingested = time.perf_counter() - t0

            infos = router.namespaces()
            out.print(namespaces_table(infos, {str(i.namespace): router.count(i.namespace) for i in infos}))

            t0 = time.perf_counter()
            for logical, query, flt in QUERIES:
                result = router.search(logical, query, k=3, filter=flt)
                label = f"{query!r} in {result.namespace}" + (f" where {flt}" if flt else "")
                out.print(result_table(result, title=label))
            out.print(
                _mode_comparison(router, "acme:handbook", "what happens when the vector store is down?")
            )
            out.print(_isolation(router))
            searched = time.perf_counter() - t0
        total = time.perf_counter() - started
        out.rule(
            f"done in {total:.1f}s (model {loaded:.1f}s · ingest {ingested:.1f}s · searches {searched:.2f}s)"
        )
    return {"load": loaded, "ingest": ingested, "search": searched, "total": total}


def _mode_comparison(router: Router, logical: str, query: str) -> Table:
    table = Table(title=plain(f"dense vs keyword vs hybrid for {query!r}", "table.title"))
    table.add_column("rank", justify="right")
    results = {mode: router.search(logical, query, k=3, mode=mode) for mode in ("dense", "keyword", "hybrid")}
    for mode, res in results.items():
        table.add_column(plain(f"{mode} (answered by {res.served_by})"))
    for rank in range(3):
        cells = []
        for res in results.values():
            cells.append(
                plain(f"{res.hits[rank].id}\n{snippet(res.hits[rank].text, 60)}")
                if rank < len(res.hits)
                else ""
            )
        table.add_row(str(rank + 1), *cells)
    return table


def _isolation(router: Router) -> Table:
    query = "degradation ladder circuit breaker"
    table = Table(title=plain(f"tenant isolation: {query!r}", "table.title"))
    table.add_column("tenant namespace")
    table.add_column("hits")
    table.add_column("top hit")
    for logical in ("acme:handbook", "globex:support"):
        res = router.search(logical, query, k=3, mode="keyword")
        table.add_row(plain(logical), str(len(res.hits)), plain(res.hits[0].id) if res.hits else "—")
    return table
