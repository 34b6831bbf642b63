"""``embedded_router`` names a LangChain model's version after the model itself, not only its class and width."""

import asyncio
import hashlib
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from vectorrouter import ConfigurationError, Router

from langchain_vectorrouter import VectorRouterStore, embedded_router
from langchain_vectorrouter.embeddings import model_identity


class SeededEmbeddings(Embeddings):
    """Two instances with different seeds are two different models of one class and one width."""

    def __init__(self, seed: str, **identity: object) -> None:
        self.seed = seed
        for attr, value in identity.items():
            setattr(self, attr, value)

    def _vector(self, text: str) -> list[float]:
        digest = hashlib.sha256(f"{self.seed}|{text}".encode()).digest()
        v = np.random.default_rng(int.from_bytes(digest[:8], "big")).normal(size=8)
        return (v / np.linalg.norm(v)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def _router_vector(router: Router, text: str) -> np.ndarray:
    return router.embeddings.embed(router.default_model, [text], "query")[0]


def test_two_models_of_one_class_and_width_never_share_a_version_or_cached_vectors(tmp_path: Path) -> None:
    mini = SeededEmbeddings("a", model_name="sentence-transformers/all-MiniLM-L6-v2")
    bge = SeededEmbeddings("b", model_name="BAAI/bge-small-en-v1.5")
    with embedded_router(mini, tmp_path) as router:
        mini_version = router.default_model
        np.testing.assert_allclose(_router_vector(router, "shared text"), mini.embed_query("shared text"))
    with embedded_router(bge, tmp_path) as router:  # same path: same catalog, same embedding cache
        assert router.default_model != mini_version
        assert router.default_model.startswith("langchain-SeededEmbeddings-8-")
        np.testing.assert_allclose(
            _router_vector(router, "shared text"), bge.embed_query("shared text"), rtol=1e-6, atol=1e-6
        )
    with embedded_router(SeededEmbeddings("a", model_name=mini.model_name), tmp_path) as router:
        assert router.default_model == mini_version, "the same model is named the same in every process"


def test_a_model_without_a_name_kept_on_disk_is_refused_until_given_a_version(tmp_path: Path) -> None:
    anonymous = SeededEmbeddings("a")
    with pytest.raises(ConfigurationError, match="model_version") as refused:
        embedded_router(anonymous, tmp_path)
    assert "langchain-SeededEmbeddings-8" in str(refused.value), "names the version older data is under"
    with embedded_router(anonymous, tmp_path, model_version="seeded-a") as router:
        assert router.default_model == "seeded-a"
    store = VectorRouterStore.from_texts(["x"], anonymous, path=tmp_path, model_version="seeded-a")
    assert [str(n.namespace) for n in store.router.namespaces()] == ["default:langchain:seeded-a"]
    store.router.close()


def test_a_model_without_a_name_in_memory_keeps_its_class_and_width_name() -> None:
    # nothing outlives an in-memory router, so nothing can be shared with another model
    with embedded_router(DeterministicFakeEmbedding(size=12)) as router:
        assert router.default_model == "langchain-DeterministicFakeEmbedding-12"


def test_the_identity_is_the_models_name_attributes_as_strings_only() -> None:
    assert (
        model_identity(SeededEmbeddings("a", model="text-embedding-3-small"))
        == "model=text-embedding-3-small"
    )
    assert model_identity(SeededEmbeddings("a", model_id="amazon.titan-embed-text-v2:0", model="m")) == (
        "model=m;model_id=amazon.titan-embed-text-v2:0"
    )
    assert model_identity(SeededEmbeddings("a", model=object(), model_name="")) == "", "no stable name"

    class Wrapper(SeededEmbeddings):  # CacheBackedEmbeddings keeps its model here
        underlying_embeddings = SeededEmbeddings("b", model_name="bge")

    assert model_identity(Wrapper("w")) == "model_name=bge"


def test_a_long_class_name_keeps_the_width_and_digest_in_a_valid_version() -> None:
    class AVeryLongEmbeddingClassNameThatWouldNotFitIntoOneNamespacePartAtAll(SeededEmbeddings):
        pass

    model = AVeryLongEmbeddingClassNameThatWouldNotFitIntoOneNamespacePartAtAll("a", model="m")
    with embedded_router(model) as router:
        version = router.default_model
    digest = hashlib.sha256(b"model=m").hexdigest()[:8]
    assert len(version) <= 64
    assert version.endswith(f"-8-{digest}")


def test_model_version_is_checked_and_only_names_a_router_being_built(router: Router) -> None:
    model = SeededEmbeddings("a", model="m")
    with pytest.raises(ConfigurationError, match="model_version"):
        embedded_router(model, model_version="has:colon")
    with pytest.raises(ConfigurationError, match="model_version"):
        embedded_router(None, model_version="v1")
    with pytest.raises(ConfigurationError, match="model_version"):
        VectorRouterStore.from_texts(["x"], None, router=router, model_version="v1")
    with pytest.raises(ConfigurationError, match="model_version"):
        asyncio.run(VectorRouterStore.afrom_texts(["x"], None, router=router, model_version="v1"))
