"""A second offline model of another width: TF-IDF + truncated SVD (latent semantic analysis) fitted on a corpus.

It needs no weights from anywhere: :meth:`LsaEmbedder.fit` learns a vocabulary, IDF weights and an SVD
basis from the texts it is given, and :meth:`LsaEmbedder.save` writes them to one ``.npz`` (no pickle). The
provider ``lsa`` loads that file from ``options.path``. Its width is whatever it was fitted with (768 by
default), so a migration from the 384-d default moves between physical indexes for real.

Tokenisation and weighting are implemented here (not sklearn's vectorizer) so a saved model embeds the same
way whatever library versions load it; only the SVD fit uses scikit-learn, with a fixed seed.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vectorrouter.embeddings.base import ModelSpec, Task
from vectorrouter.errors import ConfigurationError

__all__ = ["LsaEmbedder"]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_FORMAT = "vectorrouter-lsa/1"
# A short English stop list: frequent function words carry no topic and only blur the SVD basis.
_STOP = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "may",
        "however",
        "thus",
        "using",
        "used",
        "use",
    ]
)


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOP]


class LsaEmbedder:
    """TF-IDF (sublinear term frequency, smoothed IDF) projected on a truncated SVD basis, L2-normalised.

    >>> docs = [f"topic {i % 5} word{i % 7} common text about subject {i % 3}" for i in range(40)]
    >>> model = LsaEmbedder.fit(docs, dimensions=4, seed=0)
    >>> model.embed(["topic 1 word1"], "query").shape
    (1, 4)
    """

    def __init__(
        self, vocabulary: dict[str, int], idf: np.ndarray, components: np.ndarray, *, fingerprint: str
    ):
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float64)
        self.components = np.asarray(components, dtype=np.float64)  # (dimensions, vocabulary size)
        self.dimensions = int(self.components.shape[0])
        #: Digest of the fitted model: two files with the same fingerprint embed identically.
        self.fingerprint = fingerprint

    # -- fitting -----------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls, texts: Sequence[str], *, dimensions: int = 768, seed: int = 0, min_df: int = 1
    ) -> LsaEmbedder:
        """Learn vocabulary, IDF and a ``dimensions``-wide SVD basis from ``texts`` (deterministic for a seed)."""
        try:
            from sklearn.utils.extmath import randomized_svd
        except ImportError as exc:
            raise ConfigurationError(
                "fitting an LSA model needs scikit-learn",
                field="models.*.provider",
                fix="pip install 'vectorrouter[migration]'",
            ) from exc
        docs = [set(_tokens(t)) for t in texts]
        df = Counter(tok for d in docs for tok in d)
        vocab_terms = sorted(t for t, n in df.items() if n >= min_df)
        vocabulary = {t: i for i, t in enumerate(vocab_terms)}
        limit = min(len(texts), len(vocabulary)) - 1
        if dimensions < 1 or dimensions > limit:
            raise ConfigurationError(
                f"an LSA model of {dimensions} dimensions cannot be fitted on {len(texts)} texts with "
                f"{len(vocabulary)} distinct terms",
                field="dimensions",
                fix=f"use at most {max(limit, 0)} dimensions, or fit on more text",
            )
        n = len(texts)
        idf = np.ones(len(vocabulary))
        for term, i in vocabulary.items():
            idf[i] = np.log((1 + n) / (1 + df[term])) + 1.0
        shell = cls(vocabulary, idf, np.zeros((1, len(vocabulary))), fingerprint="")
        matrix = shell._tfidf(texts)
        _, _, vt = randomized_svd(matrix, dimensions, n_iter=7, random_state=seed)
        # fix each component's sign (largest loading positive) so refits agree exactly, not up to ±
        signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
        # stored as float32: a freshly fitted model embeds exactly like the file it saves
        components = (vt * signs[:, None]).astype(np.float32).astype(np.float64)
        digest = hashlib.sha256()
        digest.update("\x1f".join(vocab_terms).encode())
        digest.update(np.round(components, 6).tobytes())
        return cls(vocabulary, idf, components, fingerprint=digest.hexdigest()[:16])

    def _tfidf(self, texts: Sequence[str]) -> object:
        from scipy.sparse import csr_matrix

        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts = Counter(self.vocabulary[t] for t in _tokens(text) if t in self.vocabulary)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64)
            w = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[idx]
            w /= np.linalg.norm(w)
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(w.tolist())
        return csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocabulary)))

    # -- persistence -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        header = {"format": _FORMAT, "dimensions": self.dimensions, "fingerprint": self.fingerprint}
        tmp = target.with_name(target.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            header=np.array(json.dumps(header)),
            terms=np.array("\n".join(terms)),
            idf=self.idf,
            components=self.components.astype(np.float32),
        )
        tmp.replace(target)
        return target

    @classmethod
    def load(cls, path: str | Path) -> LsaEmbedder:
        p = Path(path)
        if not p.exists():
            raise ConfigurationError(
                f"LSA model file {p} does not exist",
                field="models.*.options.path",
                fix="fit one: LsaEmbedder.fit(texts, dimensions=768).save(path)",
            )
        with np.load(p, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != _FORMAT:
                raise ConfigurationError(f"{p} is not an LSA model ({header.get('format')!r})")
            terms = str(data["terms"]).split("\n") if str(data["terms"]) else []
            return cls(
                {t: i for i, t in enumerate(terms)},
                data["idf"],
                data["components"].astype(np.float64),
                fingerprint=header["fingerprint"],
            )

    # -- provider ----------------------------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: ModelSpec) -> LsaEmbedder:
        path = spec.options.get("path")
        if not path:
            raise ConfigurationError(
                f"model {spec.version!r} (provider 'lsa') has no fitted model file",
                field=f"models.{spec.version}.options.path",
                fix="set options = { path = 'lsa-768.npz' } (fit it with LsaEmbedder.fit(...).save(path))",
            )
        model = _cached_load(str(path))
        if model.dimensions != spec.dimensions:
            raise ConfigurationError(
                f"{path} was fitted with {model.dimensions} dimensions but the model declares {spec.dimensions}",
                field=f"models.{spec.version}.dimensions",
                fix=f"declare dimensions = {model.dimensions}",
            )
        return model

    def embed(self, texts: Sequence[str], task: Task) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        out = np.asarray(self._tfidf(texts) @ self.components.T, dtype=np.float64)  # type: ignore[operator]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms == 0.0, 1.0, norms)).astype(np.float32)


_LOCK = threading.Lock()
_LOADED: dict[str, LsaEmbedder] = {}


def _cached_load(path: str) -> LsaEmbedder:
    with _LOCK:
        if path not in _LOADED:
            _LOADED[path] = LsaEmbedder.load(path)
        return _LOADED[path]
