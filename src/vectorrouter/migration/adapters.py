"""Query-side adapters: map a new model's query embeddings into an old model's space (after Drift-Adapter).

Fitted on paired embeddings of a small sample of documents (``new[i]`` and ``old[i]`` embed the same text),
an adapter lets the new model answer queries against the old model's index before — or instead of — a full
re-embed. Three families, from most to least constrained:

* :class:`ProcrustesAdapter` — an orthogonal map (a rotation), padding the narrower side with zeros when the
  widths differ and keeping the old model's width on the way out;
* :class:`AffineAdapter` — a ridge-regularised affine map truncated to a low rank (reduced-rank regression);
* :class:`ResidualMLPAdapter` — the affine map plus a small ReLU network on its residual, trained in numpy
  with a fixed seed and stopped early on a held-out slice, so it never ends worse than its linear start.

Adapters are saved as ``.npz`` with a JSON header (never pickles) and loaded with :func:`load_adapter`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vectorrouter.errors import ConfigurationError, DimensionMismatch

__all__ = [
    "ADAPTER_KINDS",
    "AffineAdapter",
    "ProcrustesAdapter",
    "QueryAdapter",
    "ResidualMLPAdapter",
    "fit_adapter",
    "load_adapter",
]

_FORMAT = "vectorrouter-adapter/1"


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0.0, 1.0, norms)


def _check_pairs(new: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    new = np.asarray(new, dtype=np.float64)
    old = np.asarray(old, dtype=np.float64)
    if new.ndim != 2 or old.ndim != 2:
        raise ValueError(f"paired embeddings must be 2-d matrices, got shapes {new.shape} and {old.shape}")
    if new.shape[0] != old.shape[0]:
        raise ValueError(
            f"paired embeddings must have one row per document in both models: {new.shape[0]} new rows"
            f" vs {old.shape[0]} old rows"
        )
    if new.shape[0] < 2:
        raise ValueError("an adapter needs at least 2 paired documents (a few hundred is typical)")
    return _unit(new), _unit(old)


class QueryAdapter(ABC):
    """Maps ``(n, source_dim)`` new-model vectors to ``(n, target_dim)`` unit vectors in the old model's space.

    >>> rng = np.random.default_rng(0)
    >>> new = rng.normal(size=(200, 8)); rotation = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    >>> adapter = ProcrustesAdapter.fit(new, new @ rotation, center=False)
    >>> bool(np.allclose(adapter.transform(new[:3]), _unit(new[:3] @ rotation), atol=1e-6))
    True
    """

    kind: ClassVar[str]

    def __init__(self, source_dim: int, target_dim: int, meta: dict[str, Any] | None = None) -> None:
        self.source_dim = int(source_dim)
        self.target_dim = int(target_dim)
        #: Free-form provenance saved with the adapter (model versions, sample size, seed…).
        self.meta: dict[str, Any] = dict(meta or {})

    @abstractmethod
    def _map(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]: ...

    def _params(self) -> dict[str, Any]:
        return {}

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Adapt a batch (or one vector) of new-model embeddings; returns float32 unit vectors."""
        x = np.asarray(vectors, dtype=np.float64)
        single = x.ndim == 1
        x = x.reshape(1, -1) if single else x
        if x.shape[1] != self.source_dim:
            raise DimensionMismatch(self.source_dim, int(x.shape[1]), where=f"{self.kind} adapter input")
        out = _unit(self._map(_unit(x))).astype(np.float32)
        return out[0] if single else out

    __call__ = transform

    def save(self, path: str | Path) -> Path:
        """Write the adapter to ``path`` (``.npz``); the header records kind, widths and provenance."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": _FORMAT,
            "kind": self.kind,
            "source_dim": self.source_dim,
            "target_dim": self.target_dim,
            "params": self._params(),
            "meta": self.meta,
        }
        tmp = target.with_name(target.name + ".tmp.npz")
        arrays = {"header": np.array(json.dumps(header, sort_keys=True)), **self._arrays()}
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(target)  # a crash mid-write never leaves a truncated adapter behind
        return target

    @classmethod
    @abstractmethod
    def _restore(
        cls, header: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> QueryAdapter: ...  # pragma: no cover


class ProcrustesAdapter(QueryAdapter):
    """Orthogonal Procrustes: the rotation ``R`` minimising ``||X R - Y||`` (``R = U Vᵀ`` from ``Xᵀ Y``).

    When widths differ both sides are zero-padded to the larger width, the rotation is solved there, and the
    output keeps the old model's first ``target_dim`` coordinates (a projection).

    With ``center`` (the default) the rotation is solved between mean-centred samples and queries are centred
    by the new model's sample mean. Real embedding spaces are anisotropic (every vector shares a large common
    direction); without centring that direction dominates ``Xᵀ Y`` and, with fewer pairs than dimensions, the
    rotation of everything else is left to chance. The old mean is not added back: cosine search against the
    old index ranks by direction, and the shared centroid would pull every query toward the same point.
    """

    kind = "procrustes"

    def __init__(
        self,
        rotation: np.ndarray,
        source_dim: int,
        target_dim: int,
        *,
        source_mean: np.ndarray | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(source_dim, target_dim, **kw)
        self.rotation = np.asarray(rotation, dtype=np.float64)
        self.source_mean = (
            np.zeros(source_dim) if source_mean is None else np.asarray(source_mean, np.float64)
        )

    @classmethod
    def fit(cls, new: np.ndarray, old: np.ndarray, *, center: bool = True, **meta: Any) -> ProcrustesAdapter:
        x, y = _check_pairs(new, old)
        mx = x.mean(axis=0) if center else np.zeros(x.shape[1])
        my = y.mean(axis=0) if center else np.zeros(y.shape[1])
        width = max(x.shape[1], y.shape[1])
        xp = np.zeros((len(x), width))
        yp = np.zeros((len(y), width))
        xp[:, : x.shape[1]] = x - mx
        yp[:, : y.shape[1]] = y - my
        u, _, vt = np.linalg.svd(xp.T @ yp)
        return cls(
            u @ vt, x.shape[1], y.shape[1], source_mean=mx, meta={"pairs": len(x), "center": center, **meta}
        )

    def _map(self, x: np.ndarray) -> np.ndarray:
        xp = np.zeros((len(x), self.rotation.shape[0]))
        xp[:, : self.source_dim] = x - self.source_mean
        return (xp @ self.rotation)[:, : self.target_dim]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"rotation": self.rotation, "source_mean": self.source_mean}

    @classmethod
    def _restore(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> ProcrustesAdapter:
        return cls(
            arrays["rotation"],
            header["source_dim"],
            header["target_dim"],
            source_mean=arrays["source_mean"],
            meta=header["meta"],
        )


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Centred ridge regression ``y ≈ x W + b``; returns ``(W, b)``."""
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mx, y - my
    gram = xc.T @ xc
    # alpha is relative to the mean feature variance, so one default suits any width or scale
    scale = float(np.trace(gram)) / gram.shape[0] or 1.0
    w = np.linalg.solve(gram + alpha * scale * np.eye(gram.shape[0]), xc.T @ yc)
    return w, my - mx @ w


class AffineAdapter(QueryAdapter):
    """Low-rank affine map ``y = x W + b``: ridge regression, then truncated to ``rank`` (reduced-rank regression).

    The truncation keeps the ``rank`` directions of the fitted outputs that carry the most variance, which is
    what makes a wide map learnable from a few hundred pairs.
    """

    kind = "affine"

    def __init__(self, weight: np.ndarray, bias: np.ndarray, *, rank: int, alpha: float, **kw: Any) -> None:
        weight = np.asarray(weight, dtype=np.float64)
        super().__init__(weight.shape[0], weight.shape[1], **kw)
        self.weight = weight
        self.bias = np.asarray(bias, dtype=np.float64)
        self.rank = rank
        self.alpha = alpha

    @classmethod
    def fit(
        cls, new: np.ndarray, old: np.ndarray, *, rank: int | None = None, alpha: float = 0.1, **meta: Any
    ) -> AffineAdapter:
        x, y = _check_pairs(new, old)
        if alpha < 0:
            raise ValueError(f"alpha (ridge strength) must be >= 0, got {alpha}")
        full = min(x.shape[1], y.shape[1])
        rank = full if rank is None else int(rank)
        if not 1 <= rank <= full:
            raise ValueError(f"rank must be between 1 and {full} (the narrower width), got {rank}")
        w, b = _ridge(x, y, alpha)
        if rank < full:
            fitted = (x - x.mean(axis=0)) @ w
            _, _, vt = np.linalg.svd(fitted, full_matrices=False)
            keep = vt[:rank].T @ vt[:rank]
            w = w @ keep
            b = y.mean(axis=0) - x.mean(axis=0) @ w
        return cls(w, b, rank=rank, alpha=alpha, meta={"pairs": len(x), **meta})

    def _map(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight + self.bias  # type: ignore[no-any-return]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"weight": self.weight, "bias": self.bias}

    def _params(self) -> dict[str, Any]:
        return {"rank": self.rank, "alpha": self.alpha}

    @classmethod
    def _restore(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> AffineAdapter:
        p = header["params"]
        return cls(arrays["weight"], arrays["bias"], rank=p["rank"], alpha=p["alpha"], meta=header["meta"])


class ResidualMLPAdapter(QueryAdapter):
    """Affine base map plus a one-hidden-layer ReLU network on the residual: ``y = A(x) + relu(x W1 + b1) W2``.

    Trained full-batch with Adam on the cosine loss in numpy, from a fixed seed, so the same pairs always give
    the same adapter. The output layer starts at zero (the network starts as its affine base), and training
    keeps the epoch with the best held-out cosine.
    """

    kind = "mlp"

    def __init__(self, base: AffineAdapter, layers: dict[str, np.ndarray], params: dict[str, Any], **kw: Any):
        super().__init__(base.source_dim, base.target_dim, **kw)
        self.base = base
        self.layers = {k: np.asarray(v, dtype=np.float64) for k, v in layers.items()}
        self.params = dict(params)

    @classmethod
    def fit(
        cls,
        new: np.ndarray,
        old: np.ndarray,
        *,
        hidden: int = 256,
        epochs: int = 300,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        holdout: float = 0.15,
        seed: int = 0,
        rank: int | None = None,
        alpha: float = 0.1,
        **meta: Any,
    ) -> ResidualMLPAdapter:
        x, y = _check_pairs(new, old)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        n_val = max(1, round(holdout * len(x))) if len(x) >= 10 else 0
        val, train = order[:n_val], order[n_val:]
        base = AffineAdapter.fit(x[train], y[train], rank=rank, alpha=alpha)
        layers = {
            "w1": rng.normal(0.0, np.sqrt(2.0 / x.shape[1]), size=(x.shape[1], hidden)),
            "b1": np.zeros(hidden),
            "w2": np.zeros((hidden, y.shape[1])),  # zero: training starts exactly at the affine base
        }
        trained, best_epoch, best_val = _train_residual(
            layers, base, x, y, train, val, epochs, learning_rate, weight_decay
        )
        params = {
            "hidden": hidden,
            "epochs": epochs,
            "best_epoch": best_epoch,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "holdout": holdout,
            "seed": seed,
            "val_cosine": best_val,
        }
        return cls(base, trained, params, meta={"pairs": len(x), **meta})

    def _map(self, x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(x @ self.layers["w1"] + self.layers["b1"], 0.0)
        return self.base._map(x) + hidden @ self.layers["w2"]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"base_weight": self.base.weight, "base_bias": self.base.bias, **self.layers}

    def _params(self) -> dict[str, Any]:
        return {**self.params, "base_rank": self.base.rank, "base_alpha": self.base.alpha}

    @classmethod
    def _restore(cls, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> ResidualMLPAdapter:
        p = dict(header["params"])
        base = AffineAdapter(
            arrays["base_weight"], arrays["base_bias"], rank=p.pop("base_rank"), alpha=p.pop("base_alpha")
        )
        layers = {k: arrays[k] for k in ("w1", "b1", "w2")}
        return cls(base, layers, p, meta=header["meta"])


def _cosine_loss(pred: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean ``1 - cos(pred, y)`` (``y`` is unit-length) and its gradient with respect to ``pred``."""
    norms = np.linalg.norm(pred, axis=1, keepdims=True) + 1e-12
    unit = pred / norms
    cos = np.sum(unit * y, axis=1, keepdims=True)
    grad = -(y - cos * unit) / norms / len(pred)
    return float(np.mean(1.0 - cos)), grad


def _train_residual(
    layers: dict[str, np.ndarray],
    base: AffineAdapter,
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    val: np.ndarray,
    epochs: int,
    lr: float,
    weight_decay: float,
) -> tuple[dict[str, np.ndarray], int, float]:
    xt, yt = x[train], y[train]
    base_t = base._map(xt)
    base_v = base._map(x[val]) if len(val) else None
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in layers.items()}
    beta1, beta2 = 0.9, 0.999

    def val_cos(params: dict[str, np.ndarray]) -> float:
        if base_v is None:
            return float("nan")
        h = np.maximum(x[val] @ params["w1"] + params["b1"], 0.0)
        loss, _ = _cosine_loss(base_v + h @ params["w2"], y[val])
        return 1.0 - loss

    best = {k: v.copy() for k, v in layers.items()}
    best_val, best_epoch = val_cos(layers), 0
    for epoch in range(1, epochs + 1):
        pre = xt @ layers["w1"] + layers["b1"]
        h = np.maximum(pre, 0.0)
        _, g_out = _cosine_loss(base_t + h @ layers["w2"], yt)
        g_h = (g_out @ layers["w2"].T) * (pre > 0)
        grads = {"w2": h.T @ g_out, "w1": xt.T @ g_h, "b1": g_h.sum(axis=0)}
        for key, grad in grads.items():
            m, v = moments[key]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            step = lr * (m / (1 - beta1**epoch)) / (np.sqrt(v / (1 - beta2**epoch)) + 1e-8)
            layers[key] -= step + lr * weight_decay * layers[key]
        score = val_cos(layers)
        if base_v is None or score > best_val:
            best = {k: v.copy() for k, v in layers.items()}
            best_val, best_epoch = score, epoch
    return best, best_epoch, best_val


ADAPTER_KINDS: dict[str, type[QueryAdapter]] = {
    "procrustes": ProcrustesAdapter,
    "affine": AffineAdapter,
    "mlp": ResidualMLPAdapter,
}


def fit_adapter(kind: str, new: np.ndarray, old: np.ndarray, **options: Any) -> QueryAdapter:
    """Fit the adapter family ``kind`` (``procrustes``, ``affine`` or ``mlp``) on paired embeddings."""
    cls = ADAPTER_KINDS.get(kind)
    if cls is None:
        raise ConfigurationError(
            f"unknown adapter kind {kind!r}", field="adapter", fix=f"use one of: {', '.join(ADAPTER_KINDS)}"
        )
    return cls.fit(new, old, **options)  # type: ignore[attr-defined,no-any-return]


def load_adapter(path: str | Path) -> QueryAdapter:
    """Read an adapter written by :meth:`QueryAdapter.save`; refuses files of another format or kind."""
    p = Path(path)
    if not p.exists():
        raise ConfigurationError(
            f"adapter file {p} does not exist", field="adapter", fix="fit and save one first"
        )
    with np.load(p, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    try:
        header = json.loads(str(arrays.pop("header")))
    except (KeyError, json.JSONDecodeError):
        raise ConfigurationError(f"{p} is not a vectorrouter adapter (no header)", field="adapter") from None
    if header.get("format") != _FORMAT or header.get("kind") not in ADAPTER_KINDS:
        raise ConfigurationError(
            f"{p} holds format {header.get('format')!r} kind {header.get('kind')!r}; expected {_FORMAT}"
            f" with kind one of {', '.join(ADAPTER_KINDS)}",
            field="adapter",
        )
    return ADAPTER_KINDS[header["kind"]]._restore(header, arrays)
