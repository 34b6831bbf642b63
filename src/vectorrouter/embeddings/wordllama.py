"""A third offline model: WordLlama's static token embeddings, whose 256-d weights ship inside its wheel.

WordLlama (``pip install wordllama``) packages a token-embedding table (32,000 tokens × 256 dims, float16)
and its tokenizer inside the installed package. A text's vector is the mean of its tokens' rows, L2-normalised:
no network, no torch, thousands of texts a second. Only the two packaged files are read here, from the
installed package's folder, so nothing is ever fetched from a model hub; a missing file is a configuration
error naming the fix.

It is a model of a third width (256, against MiniLM's 384 and LSA's configurable one) and a different family
(static, not contextual), which makes it a realistic "new model" for migration benchmarks.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vectorrouter.embeddings.base import ModelSpec, Task
from vectorrouter.errors import ConfigurationError

__all__ = ["WordLlamaEmbedder"]

_WEIGHTS = "weights/l2_supercat_256.safetensors"
_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
#: Tokens read per text; a mean over more adds little and costs time on long documents.
MAX_TOKENS = 512


def _package_dir() -> Path:
    try:
        import wordllama  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigurationError(
            f"the 'wordllama' provider needs the wordllama package ({exc.name} is not installed)",
            field="models.*.provider",
            fix="pip install 'vectorrouter[migration]' (or pip install wordllama)",
        ) from exc
    return Path(wordllama.__file__).parent


class WordLlamaEmbedder:
    """Mean-pooled static token embeddings from the weights packaged in the ``wordllama`` wheel (256-d).

    >>> WordLlamaEmbedder.from_spec(ModelSpec("wl-256", "wordllama", 256)).dimensions   # doctest: +SKIP
    256
    """

    dimensions = 256

    def __init__(self, table: np.ndarray, tokenizer: object, *, max_tokens: int = MAX_TOKENS) -> None:
        self.table = table
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.dimensions = int(table.shape[1])

    @classmethod
    def load(cls, folder: str | Path | None = None) -> WordLlamaEmbedder:
        """Read the packaged table and tokenizer (``folder``: the installed ``wordllama`` package by default)."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        root = Path(folder) if folder is not None else _package_dir()
        weights, tok = root / _WEIGHTS, root / _TOKENIZER
        for path in (weights, tok):
            if not path.is_file():
                raise ConfigurationError(
                    f"{path} is missing from the installed wordllama package",
                    field="models.*.provider",
                    fix="reinstall the wordllama wheel (it ships the 256-d weights and the tokenizer)",
                )
        tensors = load_file(str(weights))
        if len(tensors) != 1:
            raise ConfigurationError(f"{weights} holds {sorted(tensors)}, expected one embedding table")
        table = next(iter(tensors.values())).astype(np.float32)
        tokenizer = Tokenizer.from_file(str(tok))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(table, tokenizer)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> WordLlamaEmbedder:
        model = _cached_load()
        if spec.dimensions != model.dimensions:
            raise ConfigurationError(
                f"the packaged WordLlama table has {model.dimensions} dimensions, the model declares "
                f"{spec.dimensions}",
                field=f"models.{spec.version}.dimensions",
                fix=f"declare dimensions = {model.dimensions}",
            )
        return model

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)  # type: ignore[attr-defined]
        for i, enc in enumerate(encoded):
            ids = enc.ids[: self.max_tokens]
            if ids:
                out[i] = self.table[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0.0, 1.0, norms)


_LOCK = threading.Lock()
_LOADED: list[WordLlamaEmbedder] = []


def _cached_load() -> WordLlamaEmbedder:
    with _LOCK:
        if not _LOADED:
            _LOADED.append(WordLlamaEmbedder.load())
        return _LOADED[0]
