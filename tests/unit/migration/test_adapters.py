from pathlib import Path

import numpy as np
import pytest

from vectorrouter.errors import ConfigurationError, DimensionMismatch
from vectorrouter.migration import (
    AffineAdapter,
    ProcrustesAdapter,
    ResidualMLPAdapter,
    fit_adapter,
    load_adapter,
)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def rotation(d: int, seed: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))[0]


def top_k(queries: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ index.T), axis=1)[:, :k]


def nn_retention(adapted: np.ndarray, truth: np.ndarray, index: np.ndarray, k: int = 10) -> float:
    """Mean top-k overlap between searching with adapted queries and with the true old-space queries."""
    a, t = top_k(adapted, index, k), top_k(truth, index, k)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, t, strict=True)]))


@pytest.fixture
def corpus() -> np.ndarray:
    return unit(np.random.default_rng(1).normal(size=(1200, 32)))


def test_procrustes_recovers_a_known_rotation_from_a_small_sample(corpus: np.ndarray) -> None:
    rot = rotation(32, seed=2)
    old_index = corpus @ rot
    noisy_old = unit(old_index[:60] + np.random.default_rng(3).normal(scale=0.01, size=(60, 32)))
    adapter = ProcrustesAdapter.fit(corpus[:60], noisy_old, center=False)
    assert np.linalg.norm(adapter.rotation - rot) / np.linalg.norm(rot) < 0.05
    queries = unit(np.random.default_rng(4).normal(size=(200, 32)))
    assert nn_retention(adapter.transform(queries), queries @ rot, old_index) > 0.9


def test_centred_procrustes_maps_the_sample_mean_to_the_origin_and_remembers_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    new = unit(rng.normal(size=(80, 16)) * 0.3 + 3.0 * rng.normal(size=16))
    old = unit(rng.normal(size=(80, 12)))
    adapter = ProcrustesAdapter.fit(new, old)
    assert np.allclose(adapter.source_mean, new.mean(axis=0))
    assert np.allclose(adapter._map(adapter.source_mean[None, :]), 0.0)
    assert np.array_equal(load_adapter(adapter.save(tmp_path / "p.npz")).source_mean, adapter.source_mean)
    assert not ProcrustesAdapter.fit(new, old, center=False).source_mean.any()


def test_procrustes_pads_and_projects_when_the_new_model_is_wider(corpus: np.ndarray) -> None:
    wide = unit(np.random.default_rng(5).normal(size=(1200, 48)))
    rot = rotation(48, seed=6)
    old = unit((wide @ rot)[:, :32])  # the old model sees a 32-d projection of the same geometry
    adapter = ProcrustesAdapter.fit(wide[:300], old[:300])
    adapted = adapter.transform(wide[300:])
    assert adapted.shape == (900, 32)
    cos = np.sum(adapted * old[300:], axis=1)
    assert float(np.median(cos)) > 0.95


def test_low_rank_affine_recovers_a_known_low_rank_map(corpus: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(32, 6)) @ rng.normal(size=(6, 24))  # rank 6
    bias = rng.normal(scale=0.1, size=24)
    old = unit(corpus @ a + bias)
    adapter = AffineAdapter.fit(corpus[:200], old[:200], rank=6, alpha=1e-6)
    held_out = adapter.transform(corpus[200:])
    # the map is affine before the unit-normalisation both models apply, so agreement is close, not exact
    assert float(np.median(np.sum(held_out * old[200:], axis=1))) > 0.99
    assert np.linalg.matrix_rank(adapter.weight, tol=1e-8) == 6
    # a rank-6 target space is full of near-ties, so top-10 order is kept less well than the vectors are
    assert nn_retention(held_out, old[200:], old) > 0.75


def test_ridge_keeps_a_wide_map_stable_with_fewer_pairs_than_dimensions() -> None:
    rng = np.random.default_rng(8)
    new = unit(rng.normal(size=(2000, 64)))
    old = unit(new @ rng.normal(size=(64, 40)))
    few = AffineAdapter.fit(new[:40], old[:40], alpha=0.05)  # 40 pairs for a 64x40 map
    cos = np.sum(few.transform(new[40:]) * old[40:], axis=1)
    assert float(np.median(cos)) > 0.6  # better than chance (≈0) though under-determined
    assert np.isfinite(few.weight).all()


def test_residual_mlp_never_ends_worse_than_its_affine_start_and_learns_a_nonlinear_part() -> None:
    rng = np.random.default_rng(9)
    new = unit(rng.normal(size=(1500, 16)))
    w = rng.normal(size=(16, 16))
    old = unit(np.tanh(2.0 * new @ w))
    mlp = ResidualMLPAdapter.fit(new[:1000], old[:1000], hidden=128, epochs=400, learning_rate=1e-2, seed=0)
    affine = AffineAdapter.fit(new[:1000], old[:1000])
    test_new, test_old = new[1000:], old[1000:]
    mlp_cos = float(np.mean(np.sum(mlp.transform(test_new) * test_old, axis=1)))
    affine_cos = float(np.mean(np.sum(affine.transform(test_new) * test_old, axis=1)))
    assert mlp.params["best_epoch"] > 0
    assert mlp_cos > affine_cos + 0.03


def test_residual_mlp_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(10)
    new, old = rng.normal(size=(120, 12)), rng.normal(size=(120, 8))
    a = ResidualMLPAdapter.fit(new, old, hidden=16, epochs=30, seed=3)
    b = ResidualMLPAdapter.fit(new, old, hidden=16, epochs=30, seed=3)
    c = ResidualMLPAdapter.fit(new, old, hidden=16, epochs=30, seed=4)
    assert all(np.array_equal(a.layers[k], b.layers[k]) for k in a.layers)
    assert not np.array_equal(a.layers["w1"], c.layers["w1"])


@pytest.mark.parametrize("kind", ["procrustes", "affine", "mlp"])
def test_saved_adapters_load_and_transform_identically(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    new, old = rng.normal(size=(80, 12)), rng.normal(size=(80, 10))
    options = {"epochs": 20, "hidden": 8} if kind == "mlp" else {}
    adapter = fit_adapter(kind, new, old, source="lsa-768", **options)
    path = adapter.save(tmp_path / f"{kind}.npz")
    loaded = load_adapter(path)
    assert type(loaded) is type(adapter)
    assert loaded.meta["source"] == "lsa-768"
    assert np.array_equal(loaded.transform(new[:5]), adapter.transform(new[:5]))
    assert not list(tmp_path.glob("*.tmp*"))


def test_adapter_rejects_vectors_of_the_wrong_width() -> None:
    rng = np.random.default_rng(12)
    adapter = ProcrustesAdapter.fit(rng.normal(size=(20, 6)), rng.normal(size=(20, 4)))
    with pytest.raises(DimensionMismatch, match="6 are expected"):
        adapter.transform(np.ones(5))
    assert adapter.transform(np.ones(6)).shape == (4,)


def test_bad_inputs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown adapter kind 'linear'"):
        fit_adapter("linear", np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="3 new rows vs 4 old rows"):
        fit_adapter("procrustes", np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="rank must be between 1 and 2"):
        AffineAdapter.fit(np.ones((3, 2)), np.ones((3, 5)), rank=3)
    np.savez(tmp_path / "other.npz", x=np.ones(2))
    with pytest.raises(ConfigurationError, match="not a vectorrouter adapter"):
        load_adapter(tmp_path / "other.npz")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_adapter(tmp_path / "missing.npz")
