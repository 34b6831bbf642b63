from pathlib import Path

import numpy as np
import pytest

from vectorrouter import EmbeddingService, ModelSpec
from vectorrouter.embeddings import LsaEmbedder, create_embedder
from vectorrouter.errors import ConfigurationError, DimensionMismatch

TEXTS = [
    f"{topic} report {i} with {extra}"
    for i, (topic, extra) in enumerate(
        (t, e)
        for t in ("solar panels energy", "wind turbines power", "river dams hydro", "coal plants emissions")
        for e in ("costs", "maintenance", "policy", "grid storage", "jobs", "subsidies")
    )
]


def test_fitting_is_deterministic_and_the_file_embeds_identically(tmp_path: Path) -> None:
    a = LsaEmbedder.fit(TEXTS, dimensions=8, seed=0)
    b = LsaEmbedder.fit(TEXTS, dimensions=8, seed=0)
    assert a.fingerprint == b.fingerprint
    assert np.array_equal(a.embed(TEXTS, "document"), b.embed(TEXTS, "document"))
    loaded = LsaEmbedder.load(a.save(tmp_path / "lsa.npz"))
    assert loaded.fingerprint == a.fingerprint
    assert np.array_equal(loaded.embed(TEXTS, "query"), a.embed(TEXTS, "query"))


def test_similar_texts_land_close_and_unrelated_ones_far() -> None:
    model = LsaEmbedder.fit(TEXTS, dimensions=6)
    q, wind, coal = model.embed(["wind turbines", TEXTS[6], TEXTS[19]], "query")
    assert float(q @ wind) > float(q @ coal) + 0.3
    assert np.allclose(np.linalg.norm(model.embed(TEXTS, "document"), axis=1), 1.0, atol=1e-5)


def test_text_with_no_known_term_embeds_to_zeros_not_nan() -> None:
    model = LsaEmbedder.fit(TEXTS, dimensions=4)
    v = model.embed(["zzz qqq"], "query")
    assert np.isfinite(v).all()
    assert float(np.abs(v).sum()) == 0.0


def test_provider_loads_from_options_and_checks_the_declared_width(tmp_path: Path) -> None:
    path = LsaEmbedder.fit(TEXTS, dimensions=8).save(tmp_path / "lsa.npz")
    svc = EmbeddingService([ModelSpec("lsa-8", "lsa", 8, options={"path": str(path)})])
    assert svc.embed("lsa-8", ["solar"], "query").shape == (1, 8)
    with pytest.raises(ConfigurationError, match="declare dimensions = 8"):
        create_embedder(ModelSpec("lsa-9", "lsa", 9, options={"path": str(path)}))
    with pytest.raises(ConfigurationError, match=r"options\.path"):
        create_embedder(ModelSpec("lsa-x", "lsa", 8))
    with pytest.raises(ConfigurationError, match="does not exist"):
        create_embedder(ModelSpec("lsa-y", "lsa", 8, options={"path": str(tmp_path / "nope.npz")}))
    wrong = EmbeddingService([ModelSpec("lsa-16", "lsa", 16)], embedders={"lsa-16": LsaEmbedder.load(path)})
    with pytest.raises(DimensionMismatch):
        wrong.embed("lsa-16", ["solar"], "query")


def test_too_many_dimensions_for_the_corpus_is_refused_with_the_limit() -> None:
    with pytest.raises(ConfigurationError, match="use at most 23 dimensions"):
        LsaEmbedder.fit(TEXTS, dimensions=100)
