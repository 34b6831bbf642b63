import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.configs import hash_config

from vectorrouter.cli.main import main

CONFIG = hash_config(256)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    (tmp_path / "docs.jsonl").write_text(
        "\n".join(
            json.dumps({"id": f"d{i}", "text": t, "metadata": {"n": i}})
            for i, t in enumerate(["solar panels on roofs", "wind turbines at sea", "hydro dams in valleys"])
        )
    )
    return tmp_path


def test_init_writes_a_template_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "vr.toml"
    assert main(["init", str(target)]) == 0
    assert "[models.minilm-l6]" in target.read_text()
    assert main(["init", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_ingest_then_search_prints_a_table_naming_the_store(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    assert "ingested 3 records into acme:energy:hash-256" in capsys.readouterr().out
    assert main(["search", "turbines at sea", "-n", "acme:energy", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "d1" in out
    assert "numpy" in out


def test_search_json_output_and_filters(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"])
    capsys.readouterr()
    assert main(["search", "energy", "-n", "acme:energy", "--json", "--filter", '{"n": {"$gte": 1}}']) == 0
    result = json.loads(capsys.readouterr().out)
    assert {h["id"] for h in result["hits"]} == {"d1", "d2"}
    assert result["served_by"] == "numpy"


def test_errors_print_one_line_and_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "x", "-n", "acme:nothing"]) == 2
    assert "namespace 'acme:nothing' does not exist" in capsys.readouterr().err
    assert main(["search", "x", "--filter", "{bad"]) == 2
    assert "--filter is not valid JSON" in capsys.readouterr().err


def test_namespaces_lists_counts(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"])
    capsys.readouterr()
    assert main(["namespaces"]) == 0
    out = capsys.readouterr().out
    assert "acme:energy:hash-256" in out
    assert "vr-256d-cosine" in out


def test_enqueue_then_work_the_redis_queue_from_the_cli(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.services import require_redis, unique_prefix

    url = require_redis()
    prefix = unique_prefix("cli")
    (workdir / "vectorrouter.toml").write_text(
        CONFIG + f'\n[ingest]\nqueue = "redis"\nredis_url = "{url}"\nqueue_prefix = "{prefix}"\n'
    )
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--enqueue"]) == 0
    assert "queued 3 records in 1 events on the redis queue" in capsys.readouterr().out
    assert main(["queue", "status"]) == 0
    assert "1 pending, 0 dead letters" in capsys.readouterr().out
    assert main(["queue", "work", "--timeout", "10"]) == 0
    assert "applied 1 events (3 records)" in capsys.readouterr().out
    assert main(["search", "hydro dams", "-n", "acme:energy", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["id"] == "d2"
    import redis

    redis.Redis.from_url(url).delete(f"{prefix}:stream", f"{prefix}:delayed", f"{prefix}:dlq")


def _tiny_beir(root: Path) -> Path:
    ds = root / "tiny"
    (ds / "qrels").mkdir(parents=True)
    docs = {
        "d1": ("Solar", "panels turn sunlight into power"),
        "d2": ("Wind", "turbines turn wind into power"),
        "d3": ("Hydro", "dams hold back rivers"),
    }
    (ds / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "title": t, "text": x, "metadata": {}}) for i, (t, x) in docs.items())
    )
    (ds / "queries.jsonl").write_text(
        json.dumps(
            {"_id": "q1", "text": "sunlight panels", "metadata": {"d2": "gold evidence must not be used"}}
        )
        + "\n"
        + json.dumps({"_id": "q2", "text": "rivers and dams", "metadata": {}})
    )
    (ds / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td3\t1\r\n")
    return ds


def test_eval_prints_scores_and_reuses_an_ingested_namespace(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _tiny_beir(workdir)
    assert main(["eval", str(ds), "--modes", "dense", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scores"]["dense"]["ndcg"] == pytest.approx(1.0)
    assert report["namespace"] == "eval:tiny:hash-256"
    assert main(["eval", str(ds), "--modes", "dense"]) == 0
    out = capsys.readouterr().out
    assert "already holds the 3 documents; scoring only" in out
    assert "nDCG@10" in out


def test_eval_outage_row_is_served_by_the_keyword_step_and_marked_degraded(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "vectorrouter.toml").write_text(CONFIG.replace('kind = ""', 'kind = "tantivy"'))
    ds = _tiny_beir(workdir)
    assert main(["eval", str(ds), "--modes", "hybrid", "--outage", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    row = report["scores"]["hybrid, vector stores down"]
    assert row["served_by"] == "tantivy"
    assert row["degraded_share"] == 1.0
    assert row["ndcg"] == pytest.approx(1.0)
    assert report["scores"]["hybrid"]["degraded_share"] == 0.0
    assert main(["search", "dams", "-n", "eval:tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["degraded"] is False, "the vector store is back in rotation"


def test_a_reader_that_goes_away_ends_the_command_quietly(workdir: Path) -> None:
    assert main(["ingest", "docs.jsonl", "-n", "acme:energy", "--no-progress"]) == 0
    # `vectorrouter search --json | head -1`, with a reader that is gone before the command writes
    command = [sys.executable, "-m", "vectorrouter", "search", "solar", "-n", "acme:energy", "--json"]
    with subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err


def test_a_file_where_the_data_folder_belongs_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    assert main(["namespaces", "--data-dir", "afile"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "afile" in err
    assert "Traceback" not in err
