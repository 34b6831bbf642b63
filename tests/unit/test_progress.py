"""The one progress bar behind ingest, embedding runs and backfills."""

from __future__ import annotations

import pytest

from vectorrouter import EmbeddingService, ModelSpec, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.progress import progress


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # room for every column of the bar


def test_a_shown_bar_names_the_job_and_counts_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(True, 7, "ingest acme:docs:v1") as advance:
        for _ in range(7):
            advance(1)
    err = capsys.readouterr().err
    assert "ingest acme:docs:v1" in err
    assert "7/7" in err
    assert "100%" in err


def test_the_status_column_is_read_again_at_every_advance(capsys: pytest.CaptureFixture[str]) -> None:
    done: list[int] = []
    with progress(True, 3, "backfill", status=lambda: f"batches so far: {len(done)}") as advance:
        for _ in range(3):
            done.append(1)
            advance(1)
    err = capsys.readouterr().err
    assert "batches so far: 3" in err
    assert "rec/s" not in err  # the status takes the rate's column


def test_a_disabled_or_empty_bar_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[str] = []

    def status() -> str:
        calls.append("read")
        return "never shown"

    with progress(False, 5, "quiet", status=status) as advance:
        advance(5)
    with progress(True, 0, "nothing to do", status=status) as advance:
        advance(0)
    assert capsys.readouterr().err == ""
    assert calls == []


def test_ingest_with_progress_shows_its_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    router = Router(
        embeddings=EmbeddingService([ModelSpec("h16", "hash", 16)]),
        vector_factory=NumpyBackend,
        default_model="h16",
    )
    router.ingest("acme:notes", [f"note {i}" for i in range(12)], batch_size=5, progress=True)
    captured = capsys.readouterr()
    assert "ingest acme:notes:h16" in captured.err
    assert "12/12" in captured.err
    assert captured.out == ""
