"""Voyage AI over plain HTTP.

``POST {base_url}/embeddings`` with ``{"model", "input": [...], "input_type": "query"|"document",
"truncation": true}`` (plus ``"output_dimension"`` when ``options.output_dimension`` is set); the answer has
OpenAI-style ``data[i].embedding`` rows and ``usage.total_tokens``.

>>> from vectorrouter.embeddings import ModelSpec
>>> spec = ModelSpec(version="v3", provider="voyage", model="voyage-3", dimensions=1024, options={"api_key": "k"})
>>> VoyageEmbedder(spec).body(["q"], "query")["input_type"]
'query'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from vectorrouter.embeddings.base import Embedded, ModelSpec, Task
from vectorrouter.embeddings.providers._http import (
    Failure,
    HttpEmbedder,
    classify_http_failure,
    rows_by_index,
)
from vectorrouter.errors import VectorRouterError

__all__ = ["VoyageEmbedder", "map_voyage_error"]


def map_voyage_error(failure: Failure, *, version: str = "") -> VectorRouterError:
    """The one place Voyage failures become vectorrouter errors (402 / billing messages: spent quota)."""

    def spent(status: int, body: dict[str, Any], message: str) -> bool:
        return "payment" in message.lower() or "billing" in message.lower()

    return classify_http_failure(failure, backend="voyage", version=version, quota_spent=spent)


class VoyageEmbedder(HttpEmbedder):
    """``provider = "voyage"``; options: ``api_key`` / ``api_key_env`` (default ``VOYAGE_API_KEY``),
    ``base_url``, ``timeout``, ``output_dimension``, ``truncation`` (default true)."""

    provider = "voyage"
    default_base_url = "https://api.voyageai.com/v1"
    api_key_env = ("VOYAGE_API_KEY",)
    max_batch = 128
    input_types: ClassVar[Mapping[str, str | None]] = {"query": "query", "document": "document"}

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> VoyageEmbedder:
        return cls(spec)

    def url(self) -> str:
        return f"{self.base_url}/embeddings"

    def body(self, texts: Sequence[str], task: Task) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.spec.model,
            "input": list(texts),
            "input_type": self.input_type(task),
            "truncation": bool(self.spec.options.get("truncation", True)),
        }
        if self.spec.options.get("output_dimension"):
            body["output_dimension"] = int(self.spec.options["output_dimension"])
        return body

    def parse(self, data: Any, n: int) -> Embedded:
        tokens = (data.get("usage") or {}).get("total_tokens")
        return Embedded(rows_by_index(data["data"], n), int(tokens) if tokens is not None else None)

    def map_error(self, failure: Failure) -> VectorRouterError:
        return map_voyage_error(failure, version=self.spec.version)
