"""The ingest CLI and the queue: ``--enqueue`` refuses a queue that dies with the command, ``queue work`` obeys
``[ingest]`` settings and fails (exit 2, naming the URL) on a Redis it cannot reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.configs import hash_config
from tests.support.services import free_port

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.cli.main import main
from vectorrouter.config import IngestConfig
from vectorrouter.errors import BackendUnavailable
from vectorrouter.ingest import IngestEvent, IngestWorker, MemoryQueue, WorkerStats

CONFIG = hash_config(32)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    (tmp_path / "docs.jsonl").write_text(
        "\n".join(json.dumps({"id": f"d{i}", "text": f"document {i}"}) for i in range(20))
    )
    return tmp_path


def test_enqueue_on_the_memory_queue_is_refused_naming_the_setting_and_the_alternative(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:docs", "--enqueue"]) == 2
    err = capsys.readouterr().err
    assert "[ingest] queue" in err
    assert 'queue = "redis"' in err
    assert "drop --enqueue" in err
    assert main(["namespaces"]) == 0
    assert "acme:docs" not in capsys.readouterr().out, "nothing was written either"


def test_enqueue_on_the_embedded_default_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs.jsonl").write_text(json.dumps({"id": "a", "text": "x"}))
    assert main(["ingest", "docs.jsonl", "-n", "acme:docs", "--enqueue", "--data-dir", "vr"]) == 2
    assert "--enqueue needs a queue that outlives this command" in capsys.readouterr().err


def test_ingest_without_enqueue_still_writes_directly_on_the_memory_queue(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:docs", "--no-progress"]) == 0
    assert "ingested 20 records" in capsys.readouterr().out


def test_queue_work_builds_its_worker_with_the_configured_max_attempts(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "vectorrouter.toml").write_text(CONFIG + "[ingest]\nmax_attempts = 2\n")
    seen: list[int] = []

    def drain(self: IngestWorker, **_: object) -> WorkerStats:
        seen.append(self.max_attempts)
        return self.stats

    monkeypatch.setattr(IngestWorker, "drain", drain)
    assert main(["queue", "work"]) == 0
    assert seen == [2]


def test_the_configured_max_attempts_decides_when_a_failing_event_is_dead_lettered() -> None:
    class Down(NumpyBackend):
        def upsert(self, namespace: str, records: object) -> None:
            raise BackendUnavailable("down")

    model = ModelSpec(version="hash-32", provider="hash", dimensions=32)
    router = Router(embeddings=EmbeddingService([model]), vector_factory=Down)
    queue = MemoryQueue()
    queue.put(IngestEvent(namespace="acme:docs:hash-32", records=(Record(id="a", text="x"),)))
    worker = IngestConfig(max_attempts=2).make_worker(router, queue, backoff_initial=0.001, backoff_max=0.002)
    stats = worker.drain(timeout=10)
    assert (stats.retried, stats.dead) == (1, 1)
    assert queue.dead_letters()[0].attempts == 2
    router.close()


@pytest.mark.timeout(30)
def test_queue_work_on_an_unreachable_redis_exits_2_naming_the_url(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    (workdir / "vectorrouter.toml").write_text(CONFIG + f'[ingest]\nqueue = "redis"\nredis_url = "{url}"\n')
    assert main(["queue", "work", "--retry-for", "0.5"]) == 2
    err = capsys.readouterr().err
    assert url in err
    assert "could not be reached" in err
    assert "redis_url" in err


def test_queue_work_refuses_a_retry_window_that_is_not_a_number_of_seconds(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["queue", "work", "--retry-for", "nan"]) == 2
    assert "--retry-for" in capsys.readouterr().err
