"""Hosted providers against local HTTP doubles of their APIs: request shape, batching, 429 + Retry-After,
5xx, caller errors, spent quotas. Live tests (``-m live``) run only when the provider's key is set."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from tests.doubles.embedding_providers import ProviderDouble

from vectorrouter.embeddings import EmbeddingService, HashEmbedder, ModelSpec, TaskSpec, create_embedder
from vectorrouter.embeddings.providers._http import parse_retry_after
from vectorrouter.errors import (
    BackendUnavailable,
    ConfigurationError,
    InvalidRecord,
    QuotaExhausted,
    RateLimited,
)
from vectorrouter.policies import FakeClock

PROVIDERS = ["openai", "cohere", "voyage", "vertex"]
MODELS = {
    "openai": "text-embedding-3-small",
    "cohere": "embed-v4.0",
    "voyage": "voyage-3",
    "vertex": "text-embedding-005",
}


def spec_for(api: ProviderDouble, *, version: str = "remote", **extra: Any) -> ModelSpec:
    options: dict[str, Any] = {"base_url": api.url, "api_key": api.key, "send_dimensions": False}
    if api.provider == "vertex":
        options = {
            "base_url": api.url,
            "access_token": api.key,
            "project": "proj-1",
            "location": "europe-west4",
        }
    options.update(extra.pop("options", {}))
    return ModelSpec(
        version=version,
        provider=api.provider,
        model=MODELS[api.provider],
        dimensions=api.dimensions,
        options=options,
        **extra,
    )


@pytest.fixture(params=PROVIDERS)
def api(request: pytest.FixtureRequest) -> Any:
    with ProviderDouble(request.param) as double:
        yield double


def service(spec: ModelSpec, clock: FakeClock | None = None, **kw: Any) -> EmbeddingService:
    return EmbeddingService([spec], clock=clock or FakeClock(), **kw)


def test_provider_sends_the_documented_request_shape(api: ProviderDouble) -> None:
    emb = create_embedder(spec_for(api))
    vecs = emb.embed(["first text", "second text"], "query")
    assert vecs.shape == (2, api.dimensions)
    # the double embeds with a hashing embedder, so the vectors prove the texts arrived in order
    np.testing.assert_allclose(
        vecs, HashEmbedder(api.dimensions).embed(["first text", "second text"], "query")
    )
    (rec,) = api.requests
    body = rec.body
    assert rec.headers["authorization"] == f"Bearer {api.key}"
    if api.provider == "openai":
        assert rec.path == "/v1/embeddings"
        assert body["model"] == "text-embedding-3-small"
        assert body["input"] == ["first text", "second text"]
        assert body["encoding_format"] == "float"
    elif api.provider == "voyage":
        assert body["input_type"] == "query"
        assert body["truncation"] is True
    elif api.provider == "cohere":
        assert rec.path == "/v2/embed"
        assert body["input_type"] == "search_query"
        assert body["embedding_types"] == ["float"]
    else:
        assert rec.path == (
            "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/text-embedding-005:predict"
        )
        assert [i["task_type"] for i in body["instances"]] == ["RETRIEVAL_QUERY", "RETRIEVAL_QUERY"]
        assert body["parameters"]["autoTruncate"] is True


@pytest.mark.parametrize("provider", ["cohere", "voyage", "vertex"])
def test_document_task_uses_the_providers_document_input_type(provider: str) -> None:
    with ProviderDouble(provider) as api:
        create_embedder(spec_for(api)).embed(["a document"], "document")
        body = api.requests[0].body
    got = body["instances"][0]["task_type"] if provider == "vertex" else body["input_type"]
    assert (
        got == {"cohere": "search_document", "voyage": "document", "vertex": "RETRIEVAL_DOCUMENT"}[provider]
    )


def test_declared_input_type_and_prefix_override_the_defaults() -> None:
    with ProviderDouble("cohere") as api:
        spec = spec_for(api, tasks={"query": TaskSpec(prefix="query: ", input_type="classification")})
        service(spec).embed("remote", ["what is rrf"], "query")
        body = api.requests[0].body
    assert body["input_type"] == "classification"
    assert body["texts"] == ["query: what is rrf"]


def test_openai_sends_dimensions_for_text_embedding_3_models() -> None:
    with ProviderDouble("openai", dimensions=16) as api:
        spec = spec_for(api, options={"send_dimensions": None})
        create_embedder(spec).embed(["x"], "document")
        assert api.requests[0].body["dimensions"] == 16


def test_service_batches_within_the_providers_maximum(api: ProviderDouble) -> None:
    svc = service(spec_for(api, max_batch=7), batch_size=25)
    texts = [f"text number {i}" for i in range(30)]
    out = svc.embed("remote", texts, "document")
    assert out.shape == (30, api.dimensions)
    sizes = sorted(len(api.inputs(r)) for r in api.requests)
    assert sizes == [2, 7, 7, 7, 7]


def test_billed_tokens_from_the_response_are_accounted(api: ProviderDouble) -> None:
    svc = service(spec_for(api, price_per_million=2.0))
    svc.embed("remote", ["one two three", "four five"], "document", tenant="acme")
    usage = svc.costs.total(tenant="acme")
    assert usage.tokens == 5  # the double bills one token per word
    assert usage.cost == pytest.approx(5 * 2.0 / 1e6)
    assert usage.calls == 1


def test_429_with_retry_after_is_waited_out_and_nothing_is_lost(api: ProviderDouble) -> None:
    clock = FakeClock()
    svc = service(spec_for(api), clock)
    api.fail_next(429, times=2, retry_after=3)
    out = svc.embed("remote", ["alpha", "beta"], "document")
    assert out.shape == (2, api.dimensions)
    assert sum(3.0 <= w <= 3.3 for w in clock.sleeps) == 2  # Retry-After, with at most 10% jitter
    assert len(api.requests) == 3
    assert svc.costs.total().rate_limited == 2


def test_retry_after_ms_header_is_preferred_to_seconds() -> None:
    with ProviderDouble("openai") as api:
        clock = FakeClock()
        api.fail_next(429, retry_after=9, retry_after_ms=1500)
        service(spec_for(api), clock).embed("remote", ["x"], "query")
    assert any(1.5 <= w <= 1.65 for w in clock.sleeps)
    assert not any(w >= 9.0 for w in clock.sleeps)


def test_server_errors_are_retried_as_backend_unavailable(api: ProviderDouble) -> None:
    api.fail_next(503, times=2)
    out = service(spec_for(api)).embed("remote", ["gamma"], "query")
    assert out.shape == (1, api.dimensions)
    assert len(api.requests) == 3


def test_persistent_server_errors_surface_typed_after_the_retries(api: ProviderDouble) -> None:
    api.fail_next(500, times=10)
    svc = service(spec_for(api), retry_attempts=3)
    with pytest.raises(BackendUnavailable, match="500"):
        svc.embed("remote", ["delta"], "query")
    assert len(api.requests) == 3
    assert svc.costs.total().failed == 1


def test_a_400_is_a_caller_error_and_is_not_retried(api: ProviderDouble) -> None:
    api.fail_next(400)
    with pytest.raises(InvalidRecord, match="400"):
        service(spec_for(api)).embed("remote", ["epsilon"], "query")
    assert len(api.requests) == 1


@pytest.mark.parametrize(("provider", "status"), [("openai", 429), ("cohere", 429), ("voyage", 402)])
def test_a_spent_quota_is_typed_and_not_retried(provider: str, status: int) -> None:
    with ProviderDouble(provider) as api:
        api.fail_next(status, kind="quota", times=5)
        with pytest.raises(QuotaExhausted) as info:
            service(spec_for(api)).embed("remote", ["zeta"], "query")
        assert len(api.requests) == 1
    assert isinstance(info.value, RateLimited)  # an ingest path catching RateLimited still sees it


def test_vertex_resource_exhausted_is_a_rate_limit_not_a_spent_quota() -> None:
    with ProviderDouble("vertex") as api:
        api.fail_next(429)
        out = service(spec_for(api)).embed("remote", ["eta"], "query")
    assert out.shape == (1, 16)


def test_wrong_key_is_a_configuration_error_naming_the_field(api: ProviderDouble) -> None:
    spec = spec_for(api, options={"api_key": "wrong", "access_token": "wrong"})
    with pytest.raises(ConfigurationError, match=r"models\.remote\.options\.api_key"):
        service(spec).embed("remote", ["theta"], "query")
    assert len(api.requests) == 1


def test_missing_key_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = ModelSpec(version="oa", provider="openai", model="text-embedding-3-small", dimensions=8)
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        create_embedder(spec).embed(["x"], "query")


def test_connection_refused_is_backend_unavailable() -> None:
    spec = ModelSpec(
        version="oa",
        provider="openai",
        model="m",
        dimensions=8,
        options={"base_url": "http://127.0.0.1:9", "api_key": "k"},
    )
    with pytest.raises(BackendUnavailable):
        service(spec, retry_attempts=2).embed("oa", ["x"], "query")


def test_declared_dimensions_are_checked_against_the_provider(api: ProviderDouble) -> None:
    spec = ModelSpec(
        version="wrong-width",
        provider=api.provider,
        model=MODELS[api.provider],
        dimensions=1536,
        options=spec_for(api).options,
    )
    with pytest.raises(Exception, match=r"16 dimensions but 1536") as info:
        service(spec).embed("wrong-width", ["iota"], "query")
    assert "models.wrong-width.dimensions" in str(info.value)


def test_retry_after_parsing_accepts_seconds_milliseconds_and_http_dates() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


# -- live: only with real keys ----------------------------------------------------------------------
LIVE = {
    "openai": ("OPENAI_API_KEY", "text-embedding-3-small", 1536, {}),
    "cohere": ("CO_API_KEY", "embed-english-v3.0", 1024, {}),
    "voyage": ("VOYAGE_API_KEY", "voyage-3", 1024, {}),
    "vertex": (
        "VERTEX_ACCESS_TOKEN",
        "text-embedding-005",
        768,
        {"project": os.environ.get("GOOGLE_CLOUD_PROJECT", "")},
    ),
}


@pytest.mark.live
@pytest.mark.parametrize("provider", sorted(LIVE))
def test_live_provider_embeds_queries_and_documents(provider: str) -> None:
    env, model, dims, options = LIVE[provider]
    if not os.environ.get(env) or (provider == "vertex" and not options["project"]):
        pytest.skip(f"set {env} (and GOOGLE_CLOUD_PROJECT for vertex) to run against the real {provider} API")
    spec = ModelSpec(
        version=f"live-{provider}", provider=provider, model=model, dimensions=dims, options=options
    )
    svc = EmbeddingService([spec])
    q = svc.embed(spec.version, ["what is reciprocal rank fusion?"], "query")
    d = svc.embed(spec.version, ["Reciprocal rank fusion merges ranked lists."], "document")
    assert q.shape == d.shape == (1, dims)
    assert svc.costs.total().tokens > 0
