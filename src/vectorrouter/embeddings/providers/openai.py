"""OpenAI (and any OpenAI-compatible server: Azure-style gateways, vLLM, TEI, Ollama) over plain HTTP.

``POST {base_url}/embeddings`` with ``{"model", "input": [...], "encoding_format": "float"}`` (plus
``"dimensions"`` for ``text-embedding-3-*`` or when ``options.send_dimensions`` is true); the answer's
``data[i].embedding`` rows carry an ``index`` and ``usage.prompt_tokens`` is what was billed. OpenAI has no
query/document input type: declare ``[models.X.tasks.query] prefix = ...`` if a model wants one.

>>> from vectorrouter.embeddings import ModelSpec
>>> spec = ModelSpec(version="3small", provider="openai", model="text-embedding-3-small", dimensions=512,
...                  options={"api_key": "sk-test"})
>>> OpenAIEmbedder(spec).body(["hi"], "query")["dimensions"]
512
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vectorrouter.embeddings.base import Embedded, ModelSpec, Task
from vectorrouter.embeddings.providers._http import (
    Failure,
    HttpEmbedder,
    classify_http_failure,
    rows_by_index,
)
from vectorrouter.errors import VectorRouterError

__all__ = ["OpenAIEmbedder", "map_openai_error"]


def map_openai_error(failure: Failure, *, version: str = "") -> VectorRouterError:
    """The one place OpenAI failures become vectorrouter errors (``insufficient_quota`` is a spent quota)."""

    def spent(status: int, body: dict[str, Any], message: str) -> bool:
        err = body.get("error")
        if not isinstance(err, dict):
            return False
        return "insufficient_quota" in (str(err.get("code")), str(err.get("type")))

    return classify_http_failure(failure, backend="openai", version=version, quota_spent=spent)


class OpenAIEmbedder(HttpEmbedder):
    """``provider = "openai"``; options: ``api_key`` / ``api_key_env`` (default ``OPENAI_API_KEY``),
    ``base_url``, ``organization``, ``timeout``, ``send_dimensions``."""

    provider = "openai"
    default_base_url = "https://api.openai.com/v1"
    api_key_env = ("OPENAI_API_KEY",)
    max_batch = 2048

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> OpenAIEmbedder:
        return cls(spec)

    def url(self) -> str:
        return f"{self.base_url}/embeddings"

    def headers(self) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.api_key()}"}
        if self.spec.options.get("organization"):
            out["OpenAI-Organization"] = str(self.spec.options["organization"])
        return out

    def body(self, texts: Sequence[str], task: Task) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.spec.model, "input": list(texts), "encoding_format": "float"}
        send = self.spec.options.get("send_dimensions")
        if send or (send is None and self.spec.model.startswith("text-embedding-3")):
            body["dimensions"] = self.spec.dimensions
        return body

    def parse(self, data: Any, n: int) -> Embedded:
        usage = data.get("usage") or {}
        tokens = usage.get("prompt_tokens", usage.get("total_tokens"))
        return Embedded(rows_by_index(data["data"], n), int(tokens) if tokens is not None else None)

    def map_error(self, failure: Failure) -> VectorRouterError:
        return map_openai_error(failure, version=self.spec.version)
