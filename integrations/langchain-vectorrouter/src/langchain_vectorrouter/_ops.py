"""The core's plan runner (:mod:`vectorrouter.plans`) with a LangChain embedding model plugged in.

When the store was given a LangChain ``Embeddings``, query vectors come from it and documents are embedded by it
(:class:`EmbedDocuments`); otherwise the router embeds with the namespace's active model version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from vectorrouter import Router
from vectorrouter.plans import (
    Count,
    Delete,
    EmbedQuery,
    Get,
    Ingest,
    Plan,
    Scroll,
    Search,
    check_width,
    write_target,
)
from vectorrouter.plans import Runner as _CoreRunner

__all__ = [
    "Count",
    "Delete",
    "EmbedDocuments",
    "EmbedQuery",
    "Get",
    "Ingest",
    "Plan",
    "Runner",
    "Scroll",
    "Search",
    "check_width",
    "write_target",
]


@dataclass(frozen=True, slots=True)
class EmbedDocuments:
    """Document vectors from the LangChain ``Embeddings`` (only planned when the store has one)."""

    texts: Sequence[str]


class Runner(_CoreRunner):
    """Executes plans against one router and an optional LangChain embedding model."""

    def __init__(self, router: Router, embedding: Embeddings | None) -> None:
        super().__init__(router)
        self.embedding = embedding

    def embed_query(self, op: EmbedQuery) -> list[float]:
        if self.embedding is not None:
            return self.embedding.embed_query(op.text)
        return super().embed_query(op)

    async def aembed_query(self, op: EmbedQuery) -> list[float]:
        if self.embedding is not None:
            return await self.embedding.aembed_query(op.text)
        return await super().aembed_query(op)

    def call_other(self, op: Any) -> Any:
        if isinstance(op, EmbedDocuments) and self.embedding is not None:
            return self.embedding.embed_documents(list(op.texts))
        return super().call_other(op)

    async def acall_other(self, op: Any) -> Any:
        if isinstance(op, EmbedDocuments) and self.embedding is not None:
            return await self.embedding.aembed_documents(list(op.texts))
        return await super().acall_other(op)
