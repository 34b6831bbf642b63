"""The CLI shows user data as written: never parsed as rich markup (``[/b]`` crashed) or emoji codes.

Namespaces (``acme:notes:hash-256``), record ids, snippets, file paths and dataset names are data; rich would
turn ``:notes:`` into an emoji and ``[bold]x[/bold]`` into bold text, and raise ``MarkupError`` on a stray
closing tag like ``[/b]``.
"""

import json
from pathlib import Path

import pytest
from tests.support.configs import hash_config

from vectorrouter.cli.main import main
from vectorrouter.embeddings import ModelSpec

CONFIG = hash_config(256, 64)

RECORD_ID = "n[/b]:notes:[bold]x[/bold]"
TEXT = "arrays use x[/b] here and :notes: too [bold]loud[/bold]"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    (tmp_path / "d.jsonl").write_text(json.dumps({"id": RECORD_ID, "text": TEXT}) + "\n")
    return tmp_path


def _ingest(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["ingest", "d.jsonl", "-n", "acme:notes", "--no-progress"]) == 0
    return capsys.readouterr().out


def test_ingest_names_the_namespace_as_written(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _ingest(capsys)
    assert "ingested 1 records into acme:notes:hash-256" in out


def test_search_shows_ids_and_snippets_with_their_brackets(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(capsys)
    assert main(["search", "arrays", "-n", "acme:notes"]) == 0
    out = capsys.readouterr().out
    assert "'arrays' in acme:notes:hash-256" in out
    assert RECORD_ID in out
    assert TEXT in out


def test_search_title_shows_a_query_with_brackets(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ingest(capsys)
    assert main(["search", "x[/b] :notes: [bold]y[/bold]", "-n", "acme:notes"]) == 0
    assert "'x[/b] :notes: [bold]y[/bold]' in acme:notes:hash-256" in capsys.readouterr().out


def test_namespaces_lists_the_namespace_as_written(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ingest(capsys)
    assert main(["namespaces"]) == 0
    out = capsys.readouterr().out
    assert "acme:notes:hash-256" in out
    assert "🎶" not in out


def test_estimate_title_names_the_namespace_as_written(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(capsys)
    assert main(["estimate", "acme:notes", "--to", "hash-64"]) == 0
    assert "re-embed acme:notes:hash-256 with hash-64" in capsys.readouterr().out


def test_init_names_a_path_with_brackets_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg[").mkdir()  # the "/" of "[/b]" makes "cfg[" a folder
    assert main(["init", "cfg[/b]:notes:.toml"]) == 0
    out = capsys.readouterr().out
    assert "wrote cfg[/b]:notes:.toml; edit it" in out
    assert "--config cfg[/b]:notes:.toml" in out


def test_eval_report_shows_the_dataset_and_namespace_as_written(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = workdir / "t[b]iny"
    (ds / "qrels").mkdir(parents=True)
    (ds / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": i, "title": "", "text": t})
            for i, t in (("d1", "panels turn sunlight into power"), ("d2", "dams hold back rivers"))
        )
    )
    (ds / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "sunlight panels"}))
    (ds / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    args = ["eval", str(ds), "--modes", "dense", "-n", "acme:notes:hash-256"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "t[b]iny (test split)" in out
    assert "namespace acme:notes:hash-256" in out
    assert main(args) == 0  # the second run only scores, and says so naming the namespace
    assert "acme:notes:hash-256 already holds the 2 documents" in capsys.readouterr().out


MIGRATION_CONFIG = hash_config(32, 48)


def test_migrate_plan_start_and_status_name_the_namespace_as_written(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "vectorrouter.toml").write_text(MIGRATION_CONFIG)
    assert main(["ingest", "d.jsonl", "-n", "acme:notes", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["migrate", "plan", "acme:notes", "--to", "hash-48"]) == 0
    assert "migration plan: acme:notes hash-32 → hash-48" in capsys.readouterr().out
    assert main(["migrate", "start", "acme:notes", "--to", "hash-48", "--no-progress"]) == 0
    assert "parity passed" in capsys.readouterr().out
    assert main(["migrate", "status", "acme:notes"]) == 0
    assert "migration of acme:notes: hash-32 → hash-48" in capsys.readouterr().out


def test_demo_shows_its_data_folder_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vectorrouter.demo import run_demo

    monkeypatch.setenv("COLUMNS", "400")  # the default console reads its width from here off a terminal
    root = tmp_path / "d[/b]:notes:"
    run_demo(root, model=ModelSpec(version="demo-hash", provider="hash", dimensions=64))
    out = capsys.readouterr().out
    assert f"Embedded default under {root}:" in out
    assert "acme:handbook:demo-hash" in out
