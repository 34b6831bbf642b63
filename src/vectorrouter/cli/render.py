"""Tables for search results and namespaces, shared by the CLI commands and the demo.

Every id, snippet, namespace and title is :func:`~vectorrouter.cli.common.plain` text: shown as written.
"""

from __future__ import annotations

from rich.table import Table

from vectorrouter.cli.common import plain
from vectorrouter.routing import NamespaceInfo
from vectorrouter.types import SearchResult

__all__ = ["namespaces_table", "result_table", "snippet"]


def snippet(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def result_table(result: SearchResult, title: str = "") -> Table:
    """The hits of ``result``; ``title`` (say the query and namespace) is shown as written, never as markup."""
    caption = (
        f"{result.mode} · {len(result.hits)} hits · answered by {result.served_by}"
        f"{' (degraded)' if result.degraded else ''} · {result.latency_ms:.1f} ms"
    )
    table = Table(
        title=plain(title, "table.title") if title else None,
        caption=plain(caption, "table.caption"),
        show_lines=False,
    )
    table.add_column("rank", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id", overflow="fold", max_width=32)
    table.add_column("snippet")
    table.add_column("store")
    for rank, hit in enumerate(result.hits, start=1):
        table.add_row(
            str(rank), f"{hit.score:.4f}", plain(hit.id), plain(snippet(hit.text)), plain(result.served_by)
        )
    return table


def namespaces_table(infos: list[NamespaceInfo], counts: dict[str, int]) -> Table:
    table = Table(title="namespaces")
    for col in ("namespace", "tenant", "feature", "model version", "index", "dims", "records", "active"):
        table.add_column(col, justify="right" if col in ("dims", "records") else "left")
    for info in infos:
        ns = info.namespace
        table.add_row(
            plain(ns),
            plain(ns.tenant),
            plain(ns.feature),
            plain(ns.model_version),
            plain(info.index_name),
            str(info.dimensions),
            str(counts.get(str(ns), 0)),
            "yes" if info.active else "",
        )
    return table
