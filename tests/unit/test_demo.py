"""The demo's shipped corpus and the demo itself, on the hashing embedder (no model load)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from vectorrouter.demo import demo_corpus, run_demo
from vectorrouter.embeddings import ModelSpec


def test_demo_corpus_ships_both_tenants_with_the_handbook_chunked_from_every_doc() -> None:
    corpus = demo_corpus()
    assert set(corpus) == {"acme:handbook", "globex:support"}
    handbook = corpus["acme:handbook"]
    # a dangling or missing handbook link would leave this empty
    assert len(handbook) >= 20
    sources = {r.metadata.get("source", r.id.split("#")[0]) for r in handbook}
    assert len(sources) >= 4
    assert all(r.text.strip() for r in handbook)
    assert len(corpus["globex:support"]) >= 20


def test_demo_runs_end_to_end_and_keeps_tenants_apart(tmp_path: Path) -> None:
    buf = io.StringIO()
    model = ModelSpec(version="demo-hash", provider="hash", dimensions=64)
    timings = run_demo(tmp_path / "demo", model=model, console=Console(file=buf, width=200))
    out = buf.getvalue()
    assert set(timings) == {"load", "ingest", "search", "total"}
    assert "acme:handbook:demo-hash" in out
    assert "globex:support:demo-hash" in out
    assert "tenant isolation" in out
    assert "answered by" in out
