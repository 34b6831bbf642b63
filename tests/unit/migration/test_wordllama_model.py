"""The WordLlama provider: 256-d static embeddings read from the installed wheel, never from a hub."""

from pathlib import Path

import numpy as np
import pytest

from vectorrouter import EmbeddingService, ModelSpec
from vectorrouter.embeddings import WordLlamaEmbedder, create_embedder
from vectorrouter.errors import ConfigurationError

SPEC = ModelSpec("wordllama-256", "wordllama", 256)


def test_the_packaged_model_embeds_unit_vectors_and_ranks_by_meaning() -> None:
    vectors = EmbeddingService([SPEC]).embed(
        SPEC.version,
        ["glaciers are melting fast", "the ice sheets shrink every summer", "new income tax rules", ""],
        "document",
    )
    assert vectors.shape == (4, 256)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-5)
    assert not vectors[3].any()  # an empty text has no tokens: the zero vector, not NaN
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.1


def test_the_same_text_embeds_the_same_way_as_query_and_document() -> None:
    model = create_embedder(SPEC)
    assert isinstance(model, WordLlamaEmbedder)
    text = ["Reset the router by holding the button for ten seconds."]
    assert np.array_equal(model.embed(text, "query"), model.embed(text, "document"))


def test_a_declared_width_other_than_the_packaged_one_names_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="declare dimensions = 256"):
        create_embedder(ModelSpec("wordllama-512", "wordllama", 512))


def test_a_folder_without_the_packaged_files_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="missing from the installed wordllama package"):
        WordLlamaEmbedder.load(tmp_path)
