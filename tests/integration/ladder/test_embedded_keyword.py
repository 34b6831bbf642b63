"""With every vector store down, a dense search is answered by the embedded BM25 engine through exactly the
call a keyword search makes (the SciFact evaluation of that engine therefore holds for degraded answers)."""

from __future__ import annotations

from vectorrouter import EmbeddingService, ModelSpec, Router
from vectorrouter.backends import NumpyBackend, make_keyword_backend
from vectorrouter.ladder import KeywordStep, Ladder, StepPolicy, VectorStep
from vectorrouter.testing.scripted import Script

MODEL = ModelSpec("hash-64", "hash", 64)
TEXTS = [
    "Aspirin lowers the risk of heart attacks in adults over fifty.",
    "Vitamin D supplements do not prevent fractures in older women.",
    "Regular exercise improves sleep quality and mood.",
    "Statins reduce cholesterol and cardiovascular events.",
]


def test_degraded_dense_search_is_the_embedded_bm25_answer() -> None:
    primary = Script()
    ladder = Ladder(
        [
            VectorStep("primary", primary.wrap_factory(NumpyBackend), policy=StepPolicy.in_process()),
            KeywordStep("tantivy", make_keyword_backend("tantivy", None), policy=StepPolicy.in_process()),
        ]
    )
    router = Router(embeddings=EmbeddingService([MODEL]), ladder=ladder)
    try:
        router.ingest("acme:papers", TEXTS)
        keyword = router.search("acme:papers", "do statins reduce cardiovascular risk?", k=3, mode="keyword")
        primary.kill()
        degraded = router.search("acme:papers", "do statins reduce cardiovascular risk?", k=3, mode="dense")
        assert (degraded.served_by, degraded.degraded) == ("tantivy", True)
        assert degraded.ids == keyword.ids
        assert [h.score for h in degraded.hits] == [h.score for h in keyword.hits]
        assert degraded.hits[0].text.startswith("Statins")
    finally:
        router.close()
