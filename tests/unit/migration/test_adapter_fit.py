"""Fitting an adapter from a namespace's own data: fit_namespace_adapter and `vectorrouter migrate adapter`."""

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from vectorrouter import EmbeddingService, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.cli.main import main
from vectorrouter.embeddings import HashEmbedder
from vectorrouter.errors import ConfigurationError, InvalidRecord, NamespaceNotFound
from vectorrouter.migration import fit_namespace_adapter, load_adapter, query_sized_pieces
from vectorrouter.migration.fitting import AUTO_CANDIDATES

from .conftest import CONFIG, NEW, OLD, CountingEmbedder

TOPICS = ["apples and pears", "rockets and orbits", "violins and cellos", "glaciers and ice", "tax and law"]
LONG = [
    Record(
        id=f"r{i:03d}",
        text=(
            f"Report {i} covers {TOPICS[i % 5]} in depth. Its second finding ({i}) concerns {TOPICS[(i + 1) % 5]} "
            f"and its costs. A closing remark ({i}) ties {TOPICS[(i + 2) % 5]} back to the start."
        ),
    )
    for i in range(80)
]


class RotatedEmbedder:
    """A 48-d model that is an exact rotation of the 32-d hash model: a perfect adapter exists."""

    def __init__(self) -> None:
        self.inner = HashEmbedder(OLD.dimensions)
        q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(NEW.dimensions, NEW.dimensions)))
        self.rotation = q[: OLD.dimensions]  # 32 x 48, orthonormal rows
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], task: str) -> np.ndarray:
        self.texts.extend(texts)
        return (self.inner.embed(texts, task) @ self.rotation).astype(np.float32)  # type: ignore[arg-type]


def make_router(new: object, old: object | None = None) -> Router:
    embedders = {NEW.version: new} | ({OLD.version: old} if old is not None else {})
    return Router(
        embeddings=EmbeddingService([OLD, NEW], embedders=embedders),  # type: ignore[arg-type]
        vector_factory=NumpyBackend,
        default_model=OLD.version,
    )


@pytest.fixture
def counted() -> Iterator[tuple[Router, CountingEmbedder, CountingEmbedder]]:
    new, old = CountingEmbedder(NEW.dimensions), CountingEmbedder(OLD.dimensions)
    router = make_router(new, old)
    router.ingest("acme:docs", LONG)
    new.texts.clear()
    old.texts.clear()
    yield router, new, old
    router.close()


def test_whole_records_pair_stored_vectors_with_new_model_calls_only(
    counted: tuple[Router, CountingEmbedder, CountingEmbedder],
) -> None:
    router, new, old = counted
    fit = fit_namespace_adapter(
        router, "acme:docs", NEW.version, share=0.1, sentences=False, kind="procrustes"
    )
    assert (fit.documents, fit.with_text, fit.sampled, fit.pairs) == (80, 80, 8, 8)
    assert len(new.texts) == 8
    assert set(new.texts) <= {r.text for r in LONG}
    assert old.texts == []  # the old side is read back from the index, never re-embedded
    assert (fit.new_calls, fit.old_calls, fit.old_tokens) == (8, 0, 0)
    assert fit.new_tokens < fit.full_tokens / 5
    assert (fit.adapter.kind, fit.adapter.source_dim, fit.adapter.target_dim) == ("procrustes", 48, 32)
    assert fit.adapter.meta["namespace"] == "acme:docs:hash-32"
    assert (fit.adapter.meta["source"], fit.adapter.meta["target"]) == (NEW.version, OLD.version)
    assert fit.held_out == {}  # one kind asked for: nothing to choose between


def test_sentences_add_query_sized_pairs_embedded_by_both_models(
    counted: tuple[Router, CountingEmbedder, CountingEmbedder],
) -> None:
    router, new, old = counted
    fit = fit_namespace_adapter(router, "acme:docs", NEW.version, share=0.1, kind="affine")
    pieces = [p for t in new.texts[:8] for p in query_sized_pieces(t)]
    assert len(pieces) == 24  # three sentences in each of the 8 sampled reports
    assert old.texts == pieces
    assert new.texts[8:] == pieces
    assert (fit.pairs, fit.new_calls, fit.old_calls) == (32, 32, 24)
    assert "32 texts embedded by hash-48" in fit.summary()
    assert "+ 24 by hash-32" in fit.summary()


def test_auto_keeps_the_candidate_best_on_held_out_records_and_it_maps_queries_home() -> None:
    rotated = RotatedEmbedder()
    router = make_router(rotated)
    router.ingest("acme:docs", LONG)
    fit = fit_namespace_adapter(router, "acme:docs", NEW.version, share=0.5, seed=3)
    assert set(fit.held_out) == set(AUTO_CANDIDATES)
    assert fit.chosen == max(fit.held_out, key=lambda k: fit.held_out[k])
    assert fit.adapter.kind == AUTO_CANDIDATES[fit.chosen][0]
    assert fit.held_out[fit.chosen] > 0.99  # an exact rotation is recovered from the sample
    # a query the adapter never saw, embedded by the new model, lands on the old model's vector for it
    query = "which reports discuss orbits of rockets"
    mapped = fit.adapter.transform(router.embeddings.embed(NEW.version, [query], "query"))[0]
    old = router.embeddings.embed(OLD.version, [query], "query")[0]
    assert float(mapped @ old / np.linalg.norm(old)) > 0.99
    router.close()


def test_the_sample_is_fixed_by_the_seed_and_a_refit_is_served_by_the_embedding_cache(
    counted: tuple[Router, CountingEmbedder, CountingEmbedder],
) -> None:
    router, new, _ = counted
    probe = np.random.default_rng(1).normal(size=(3, NEW.dimensions))

    def mapped(seed: int) -> np.ndarray:
        fit = fit_namespace_adapter(
            router, "acme:docs", NEW.version, share=0.1, sentences=False, kind="procrustes", seed=seed
        )
        return fit.adapter.transform(probe)

    first = mapped(1)
    calls = len(new.texts)
    assert calls == 8
    np.testing.assert_array_equal(mapped(1), first)
    assert len(new.texts) == calls  # the same sample again: every text comes from the embedding cache
    assert not np.allclose(mapped(2), first)
    assert len(new.texts) > calls  # another sample: new texts, new calls


def test_records_without_text_are_counted_but_never_sampled() -> None:
    router = make_router(CountingEmbedder(NEW.dimensions))
    router.ingest("acme:docs", LONG[:20])
    vectors = np.random.default_rng(0).normal(size=(20, OLD.dimensions)).astype(np.float32)
    router.ingest("acme:docs", [Record(id=f"v{i}", vector=v) for i, v in enumerate(vectors)])
    fit = fit_namespace_adapter(router, "acme:docs", NEW.version, share=0.5, sentences=False, kind="affine")
    assert (fit.documents, fit.with_text, fit.sampled) == (40, 20, 10)
    router.close()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"share": 0.0}, InvalidRecord, "share must be in"),
        ({"share": 1.5}, InvalidRecord, "share must be in"),
        ({"share": 0.01}, InvalidRecord, "samples 0, and an adapter needs at least 2"),
        ({"kind": "linear"}, ConfigurationError, "unknown adapter kind"),
        ({"target": OLD.version}, ConfigurationError, "already uses hash-32"),
        ({"target": "no-such-model"}, ConfigurationError, "no-such-model"),
        ({"namespace": "acme:nothing"}, NamespaceNotFound, "acme:nothing"),
    ],
)
def test_bad_requests_fail_before_any_embedding_call(
    counted: tuple[Router, CountingEmbedder, CountingEmbedder],
    kwargs: dict[str, object],
    error: type[Exception],
    match: str,
) -> None:
    router, new, old = counted
    args: dict[str, object] = {"namespace": "acme:docs", "target": NEW.version, **kwargs}
    with pytest.raises(error, match=match):
        fit_namespace_adapter(router, **args)  # type: ignore[arg-type]
    assert new.texts == []
    assert old.texts == []


def _ingest_with_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    (tmp_path / "docs.jsonl").write_text("\n".join(json.dumps({"id": r.id, "text": r.text}) for r in LONG))
    assert main(["ingest", "docs.jsonl", "-n", "acme:docs", "--no-progress"]) == 0


def test_cli_fits_saves_and_the_adapter_arm_serves_from_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest_with_the_cli(tmp_path, monkeypatch)
    capsys.readouterr()
    args = ["migrate", "adapter", "acme:docs", "--to", "hash-48", "--out", "a.npz", "--share", "0.25"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["sampled"], report["records_with_text"], report["from"]) == (20, 80, "hash-48")
    assert report["chosen"] in AUTO_CANDIDATES
    assert set(report["held_out_cosine"]) == set(AUTO_CANDIDATES)
    adapter = load_adapter(tmp_path / "a.npz")
    assert (adapter.source_dim, adapter.target_dim) == (48, 32)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "held-out cosine" in out
    assert "--arm adapter --adapter a.npz" in out

    start = ["migrate", "start", "acme:docs", "--to", "hash-48", "--arm", "adapter", "--adapter", "a.npz"]
    assert main([*start, "--no-progress", "--dwell", "0"]) == 0
    for _ in range(4):
        assert main(["migrate", "advance", "acme:docs"]) == 0
    capsys.readouterr()
    assert main(["search", "glaciers and ice", "-n", "acme:docs", "--json", "--mode", "dense"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["namespace"] == "acme:docs:hash-32"  # the adapter arm searches the old index
    assert found["hits"]


def test_cli_fit_needs_no_migration_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import vectorrouter.cli.migrate as cli_migrate

    _ingest_with_the_cli(tmp_path, monkeypatch)

    def no_state(*_: object) -> None:
        raise AssertionError("fitting an adapter must not open migration state")

    monkeypatch.setattr(cli_migrate, "_store", no_state)
    monkeypatch.setattr(cli_migrate, "Migration", no_state)
    args = ["migrate", "adapter", "acme:docs", "--to", "hash-48", "--out", "a.npz", "--share", "0.25"]
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chosen"] in AUTO_CANDIDATES
    assert load_adapter(tmp_path / "a.npz").source_dim == 48


def test_the_modules_docstring_examples_run() -> None:
    import doctest

    import vectorrouter.migration.fitting as fitting

    result = doctest.testmod(fitting, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3
    assert result.failed == 0
