"""Google Vertex AI text embeddings over plain HTTP (the ``:predict`` endpoint).

``POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/
google/models/{model}:predict`` with ``{"instances": [{"content", "task_type"}], "parameters":
{"autoTruncate": true, "outputDimensionality"?}}``; the answer's ``predictions[i].embeddings`` holds
``values`` and ``statistics.token_count``. ``text-embedding-*`` models take up to 250 instances per request,
``gemini-embedding-*`` one. Auth is a bearer token: ``options.access_token``, ``$VERTEX_ACCESS_TOKEN``, or
Application Default Credentials through ``google-auth`` (the ``vertex`` extra).

>>> from vectorrouter.embeddings import ModelSpec
>>> spec = ModelSpec(version="g005", provider="vertex", model="text-embedding-005", dimensions=768,
...                  options={"project": "p", "access_token": "t"})
>>> VertexEmbedder(spec).body(["q"], "query")["instances"][0]["task_type"]
'RETRIEVAL_QUERY'
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from vectorrouter.embeddings.base import Embedded, ModelSpec, Task
from vectorrouter.embeddings.providers._http import Failure, HttpEmbedder, classify_http_failure
from vectorrouter.errors import ConfigurationError, VectorRouterError

__all__ = ["VertexEmbedder", "map_vertex_error"]


def map_vertex_error(failure: Failure, *, version: str = "") -> VectorRouterError:
    """The one place Vertex AI failures become vectorrouter errors (429 RESOURCE_EXHAUSTED is a per-minute
    quota, so it is a rate limit, not a spent quota)."""
    return classify_http_failure(failure, backend="vertex", version=version)


class VertexEmbedder(HttpEmbedder):
    """``provider = "vertex"``; options: ``project`` (or ``$GOOGLE_CLOUD_PROJECT``), ``location``
    (default ``us-central1``), ``access_token``, ``base_url``, ``output_dimensionality``, ``timeout``."""

    provider = "vertex"
    max_batch = 250
    input_types: ClassVar[Mapping[str, str | None]] = {
        "query": "RETRIEVAL_QUERY",
        "document": "RETRIEVAL_DOCUMENT",
    }

    def __init__(self, spec: ModelSpec, *, client: Any = None) -> None:
        super().__init__(spec, client=client)
        opts = spec.options
        self.project = str(opts.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT", ""))
        self.location = str(opts.get("location", "us-central1"))
        if not self.project:
            raise ConfigurationError(
                f"Vertex AI model {spec.version!r} needs a project",
                field=f"models.{spec.version}.options.project",
                fix="set options.project or $GOOGLE_CLOUD_PROJECT",
            )
        if not opts.get("base_url"):
            self.base_url = f"https://{self.location}-aiplatform.googleapis.com"
        if spec.model.startswith("gemini-embedding") and not spec.max_batch:
            self.max_batch = 1
        self._credentials: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> VertexEmbedder:
        return cls(spec)

    def url(self) -> str:
        return (
            f"{self.base_url}/v1/projects/{self.project}/locations/{self.location}"
            f"/publishers/google/models/{self.spec.model}:predict"
        )

    def _token(self) -> str:
        opts = self.spec.options
        token = opts.get("access_token") or os.environ.get("VERTEX_ACCESS_TOKEN")
        if token:
            return str(token)
        with self._lock:
            try:
                import google.auth
                import google.auth.transport.requests
            except ImportError as exc:
                raise ConfigurationError(
                    "Vertex AI needs an access token or google-auth for Application Default Credentials",
                    field=f"models.{self.spec.version}.options.access_token",
                    fix="pip install 'vectorrouter[vertex]' and run `gcloud auth application-default login`",
                ) from exc
            if self._credentials is None:
                self._credentials, _ = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/cloud-platform"]
                )
            if not self._credentials.valid:
                self._credentials.refresh(google.auth.transport.requests.Request())
            return str(self._credentials.token)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}"}

    def body(self, texts: Sequence[str], task: Task) -> dict[str, Any]:
        kind = self.input_type(task)
        params: dict[str, Any] = {"autoTruncate": bool(self.spec.options.get("auto_truncate", True))}
        if self.spec.options.get("output_dimensionality"):
            params["outputDimensionality"] = int(self.spec.options["output_dimensionality"])
        return {"instances": [{"content": t, "task_type": kind} for t in texts], "parameters": params}

    def parse(self, data: Any, n: int) -> Embedded:
        preds = data["predictions"]
        if len(preds) != n:
            raise ValueError(f"expected {n} predictions, got {len(preds)}")
        vectors = np.asarray([p["embeddings"]["values"] for p in preds], dtype=np.float32)
        tokens: int | None = 0
        for p in preds:
            count = (p["embeddings"].get("statistics") or {}).get("token_count")
            tokens = None if count is None or tokens is None else tokens + int(count)
        return Embedded(vectors, tokens)

    def map_error(self, failure: Failure) -> VectorRouterError:
        return map_vertex_error(failure, version=self.spec.version)
