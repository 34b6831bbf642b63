"""Framework objects wrapped as-is, configuration of the registry, and `vectorrouter estimate`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vectorrouter.config import parse_config
from vectorrouter.embeddings import (
    EmbeddingService,
    LangChainEmbedder,
    LlamaIndexEmbedder,
    ModelSpec,
    TaskSpec,
    wrap_embedder,
)
from vectorrouter.embeddings.providers.local import FastEmbedEmbedder
from vectorrouter.embeddings.providers.wrappers import map_foreign_error
from vectorrouter.errors import BackendUnavailable, ConfigurationError, RateLimited
from vectorrouter.policies import FakeClock


def test_a_langchain_embeddings_object_is_wrapped_as_is() -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    lc = DeterministicFakeEmbedding(size=12)
    emb = wrap_embedder(lc)
    assert isinstance(emb, LangChainEmbedder)
    spec = ModelSpec(version="lc", provider="langchain", dimensions=12)
    svc = EmbeddingService([spec], embedders={"lc": emb})
    docs = svc.embed("lc", ["alpha", "beta"], "document")
    np.testing.assert_allclose(docs, np.asarray(lc.embed_documents(["alpha", "beta"]), dtype=np.float32))
    query = svc.embed("lc", ["alpha"], "query")
    np.testing.assert_allclose(query[0], np.asarray(lc.embed_query("alpha"), dtype=np.float32))


def test_a_llamaindex_base_embedding_is_wrapped_as_is() -> None:
    from llama_index.core.embeddings import MockEmbedding

    li = MockEmbedding(embed_dim=6)
    emb = wrap_embedder(li)
    assert isinstance(emb, LlamaIndexEmbedder)
    svc = EmbeddingService(
        [ModelSpec(version="li", provider="llama-index", dimensions=6)], embedders={"li": emb}
    )
    assert svc.embed("li", ["a", "b", "c"], "document").shape == (3, 6)
    assert svc.embed("li", ["q"], "query").shape == (1, 6)


def test_a_wrapped_objects_rate_limit_becomes_our_typed_error() -> None:
    class Response:
        status_code = 429

        def __init__(self) -> None:
            self.headers = {"retry-after": "2"}

    class APIError(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.response = Response()

    class Throttled:
        def __init__(self) -> None:
            self.calls = 0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            self.calls += 1
            if self.calls == 1:
                raise APIError("slow down")
            return [[1.0, 0.0] for _ in texts]

        def embed_query(self, text: str) -> list[float]:
            return [0.0, 1.0]

    clock = FakeClock()
    obj = Throttled()
    svc = EmbeddingService(
        [ModelSpec(version="w", provider="langchain", dimensions=2)],
        embedders={"w": wrap_embedder(obj)},
        clock=clock,
    )
    assert svc.embed("w", ["x"], "document").shape == (1, 2)
    assert obj.calls == 2
    assert any(2.0 <= s <= 2.2 for s in clock.sleeps)
    mapped = map_foreign_error(APIError("x"), backend="langchain")
    assert isinstance(mapped, RateLimited)
    assert mapped.retry_after == 2.0
    assert isinstance(map_foreign_error(RuntimeError("boom"), backend="x"), BackendUnavailable)


def test_something_that_cannot_embed_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not an embedder"):
        wrap_embedder(object())


def test_fastembed_adapter_routes_tasks_to_query_and_passage_embedding() -> None:
    class Stand:
        """The two generator methods of fastembed.TextEmbedding the adapter uses."""

        def query_embed(self, texts: list[str]) -> Any:
            return (np.full(3, 1.0) for _ in texts)

        def passage_embed(self, texts: list[str]) -> Any:
            return (np.full(3, 2.0) for _ in texts)

    emb = FastEmbedEmbedder(ModelSpec(version="fe", provider="fastembed", dimensions=3), model=Stand())
    assert emb.embed(["a", "b"], "query").tolist() == [[1.0] * 3] * 2
    assert emb.embed(["a"], "document").tolist() == [[2.0] * 3]


def test_fastembed_without_local_files_is_a_configuration_error(tmp_path: Path) -> None:
    spec = ModelSpec(
        version="fe",
        provider="fastembed",
        model="BAAI/bge-small-en-v1.5",
        dimensions=384,
        options={"cache_dir": str(tmp_path)},
    )
    with pytest.raises(ConfigurationError, match="offline"):
        FastEmbedEmbedder(spec).embed(["x"], "query")


# -- configuration ----------------------------------------------------------------------------------
def test_model_config_carries_tasks_price_lifecycle_and_quota() -> None:
    cfg = parse_config(
        {
            "path": None,
            "default_model": "e5",
            "models": {
                "e5": {
                    "provider": "hash",
                    "dimensions": 32,
                    "max_batch": 64,
                    "price_per_million": 0.1,
                    "lifecycle": "retiring",
                    "retire_on": "2031-06-30",
                    "requests_per_minute": 600,
                    "tokens_per_minute": 100000,
                    "tasks": {"query": {"prefix": "query: "}, "document": {"input_type": "passage"}},
                }
            },
        }
    )
    spec = cfg.models["e5"].spec("e5")
    assert spec.tasks["query"] == TaskSpec(prefix="query: ")
    assert spec.task("document").input_type == "passage"
    assert (spec.max_batch, spec.price_per_million, spec.requests_per_minute) == (64, 0.1, 600)
    assert spec.retire_on == dt.date(2031, 6, 30)


def test_a_retiring_model_without_a_date_is_reported_by_field() -> None:
    with pytest.raises(ConfigurationError, match=r"models\.old.*retire_on"):
        parse_config(
            {
                "path": None,
                "default_model": "old",
                "models": {"old": {"provider": "hash", "dimensions": 8, "lifecycle": "retiring"}},
            }
        )


def test_an_unknown_task_type_is_reported_by_field() -> None:
    with pytest.raises(ConfigurationError, match=r"models\.m\.tasks\.passage"):
        parse_config(
            {
                "path": None,
                "default_model": "m",
                "models": {"m": {"provider": "hash", "dimensions": 8, "tasks": {"passage": {}}}},
            }
        )


def test_postgres_cache_without_a_database_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    from vectorrouter.config import EmbeddingCacheConfig

    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match=r"embeddings\.cache\.database_url"):
        EmbeddingCacheConfig(persistent="postgres").build(None)


# -- estimate ---------------------------------------------------------------------------------------
CONFIG = """
path = "data"
default_model = "small"

[models.small]
provider = "hash"
dimensions = 16
price_per_million = 0.02

[models.large]
provider = "hash"
dimensions = 48
price_per_million = 0.13
max_batch = 2
requests_per_minute = 60
tokens_per_minute = 600

[vector_store]
kind = "numpy"

[keyword_store]
kind = ""
"""


def test_estimate_prices_a_reembedding_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vectorrouter.cli.main import main
    from vectorrouter.router import Router

    cfg = tmp_path / "vectorrouter.toml"
    cfg.write_text(CONFIG)
    texts = ["the cat sat", "a dog ran far", "the cat sat", "birds fly south in winter"]
    with Router.from_config(cfg) as router:
        router.ingest("acme:docs", [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)])
        router.embeddings.embed(
            "large", ["a dog ran far"], "document"
        )  # already paid for: free in the estimate
    assert main(["estimate", "acme:docs", "--to", "large", "--config", str(cfg), "--json"]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["namespace"] == "acme:docs:small"
    assert (est["records"], est["unique_texts"], est["cached"], est["to_embed"]) == (4, 3, 1, 2)
    assert est["tokens"] == 3 + 7  # "the cat sat": 11 bytes → 3; "birds fly south in winter": 25 bytes → 7
    assert est["cost"] == pytest.approx(est["tokens"] * 0.13 / 1e6)
    assert est["current_cost"] == pytest.approx(est["tokens"] * 0.02 / 1e6)
    assert est["provider_calls"] == 1
    assert est["minutes_at_quota"] == pytest.approx(max(1 / 60, est["tokens"] / 600))


def test_estimate_prints_a_readable_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vectorrouter.cli.main import main
    from vectorrouter.router import Router

    cfg = tmp_path / "vectorrouter.toml"
    cfg.write_text(CONFIG)
    with Router.from_config(cfg) as router:
        router.ingest("acme:docs", ["one", "two"])
    assert main(["estimate", "acme:docs", "--to", "large", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "texts to embed" in out
    assert "estimated cost" in out


def test_estimate_of_an_unknown_version_names_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vectorrouter.cli.main import main
    from vectorrouter.router import Router

    cfg = tmp_path / "vectorrouter.toml"
    cfg.write_text(CONFIG)
    with Router.from_config(cfg) as router:
        router.ingest("acme:docs", ["one"])
    assert main(["estimate", "acme:docs", "--to", "nope", "--config", str(cfg)]) == 2
    assert "unknown model version 'nope'" in capsys.readouterr().err
