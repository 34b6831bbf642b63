"""Cohere Embed v2 over plain HTTP.

``POST {base_url}/v2/embed`` with ``{"model", "texts": [...], "input_type": "search_query"|"search_document",
"embedding_types": ["float"], "truncate": "END"}``; the answer carries ``embeddings.float`` (one row per text,
in order) and ``meta.billed_units.input_tokens``. At most 96 texts per request.

>>> from vectorrouter.embeddings import ModelSpec
>>> spec = ModelSpec(version="c4", provider="cohere", model="embed-v4.0", dimensions=1536, options={"api_key": "k"})
>>> CohereEmbedder(spec).body(["d"], "document")["input_type"]
'search_document'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from vectorrouter.embeddings.base import Embedded, ModelSpec, Task
from vectorrouter.embeddings.providers._http import Failure, HttpEmbedder, classify_http_failure
from vectorrouter.errors import VectorRouterError

__all__ = ["CohereEmbedder", "map_cohere_error"]


def map_cohere_error(failure: Failure, *, version: str = "") -> VectorRouterError:
    """The one place Cohere failures become vectorrouter errors (a trial key's monthly cap is a spent quota)."""

    def spent(status: int, body: dict[str, Any], message: str) -> bool:
        low = message.lower()
        return "trial key" in low and "limited to" in low and "month" in low

    return classify_http_failure(failure, backend="cohere", version=version, quota_spent=spent)


class CohereEmbedder(HttpEmbedder):
    """``provider = "cohere"``; options: ``api_key`` / ``api_key_env`` (default ``CO_API_KEY`` then
    ``COHERE_API_KEY``), ``base_url``, ``timeout``, ``truncate`` (default ``END``), ``output_dimension``."""

    provider = "cohere"
    default_base_url = "https://api.cohere.com"
    api_key_env = ("CO_API_KEY", "COHERE_API_KEY")
    max_batch = 96
    input_types: ClassVar[Mapping[str, str | None]] = {"query": "search_query", "document": "search_document"}

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> CohereEmbedder:
        return cls(spec)

    def url(self) -> str:
        return f"{self.base_url}/v2/embed"

    def body(self, texts: Sequence[str], task: Task) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.spec.model,
            "texts": list(texts),
            "input_type": self.input_type(task),
            "embedding_types": ["float"],
            "truncate": str(self.spec.options.get("truncate", "END")),
        }
        if self.spec.options.get("output_dimension"):
            body["output_dimension"] = int(self.spec.options["output_dimension"])
        return body

    def parse(self, data: Any, n: int) -> Embedded:
        rows = data["embeddings"]["float"]
        if len(rows) != n:
            raise ValueError(f"expected {n} embeddings, got {len(rows)}")
        units = (data.get("meta") or {}).get("billed_units") or {}
        tokens = units.get("input_tokens")
        return Embedded(np.asarray(rows, dtype=np.float32), int(tokens) if tokens is not None else None)

    def map_error(self, failure: Failure) -> VectorRouterError:
        return map_cohere_error(failure, version=self.spec.version)
