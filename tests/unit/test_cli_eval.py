"""``vectorrouter eval``: scoring only when the namespace holds exactly the dataset, and checks made up front.

The namespace used to be reused whenever it held as many documents as the corpus, so a rewritten corpus (or
another dataset of the same name and size) was scored against the old documents; a bad ``--json`` path failed
only after all the scoring.
"""

import json
from pathlib import Path

import pytest
from tests.support.configs import hash_config

from vectorrouter import Router
from vectorrouter.cli.main import main

CONFIG = hash_config(64)

DOCS = {
    "d1": ("Solar", "panels turn sunlight into power"),
    "d2": ("Wind", "turbines turn wind into power"),
    "d3": ("Hydro", "dams hold back rivers"),
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vectorrouter.toml").write_text(CONFIG)
    return tmp_path


def _beir(ds: Path, docs: dict[str, tuple[str, str]] = DOCS, *, q2: str = "rivers and dams") -> Path:
    (ds / "qrels").mkdir(parents=True, exist_ok=True)
    (ds / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items())
    )
    (ds / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "sunlight panels"})
        + "\n"
        + json.dumps({"_id": "q2", "text": q2})
        + "\n"
    )
    (ds / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td3\t1\r\n")
    return ds


def _eval(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, dict[str, object]]:
    """Run eval writing the JSON report to a file; returns (what it printed, the report)."""
    assert main(["eval", *args, "--modes", "dense", "--json", "report.json"]) == 0
    return capsys.readouterr().out, json.loads(Path("report.json").read_text())


def _ndcg(report: dict[str, object]) -> float:
    scores = report["scores"]
    assert isinstance(scores, dict)
    return float(scores["dense"]["ndcg"])


def test_a_corpus_rewritten_with_as_many_documents_is_ingested_again(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _beir(workdir / "tiny")
    err, first = _eval(capsys, str(ds))
    assert _ndcg(first) == pytest.approx(1.0)
    err, again = _eval(capsys, str(ds))
    assert "eval:tiny already holds the 3 documents; scoring only" in err
    assert again["ingest_seconds"] is None, "nothing changed: nothing is embedded again"

    # same ids and count, other texts: the old documents must not be scored
    _beir(ds, {i: ("", f"unrelated words number {n}") for n, i in enumerate(DOCS)})
    err, rewritten = _eval(capsys, str(ds))
    assert "already holds" not in err
    assert "eval:tiny holds 3 records; they are not the 3 documents" in err
    assert rewritten["ingest_seconds"] is not None
    _, fresh = _eval(capsys, str(ds), "-n", "eval:fresh")
    assert _ndcg(rewritten) == pytest.approx(_ndcg(fresh))
    assert _ndcg(rewritten) < 1.0
    err, _ = _eval(capsys, str(ds))
    assert "already holds the 3 documents" in err


def test_another_dataset_of_the_same_name_and_size_is_not_taken_for_the_first(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _eval(capsys, str(_beir(workdir / "a" / "tiny")))
    other = _beir(workdir / "b" / "tiny", {i: (t, f"{x} elsewhere") for i, (t, x) in DOCS.items()})
    err, report = _eval(capsys, str(other))
    assert "dropping them and ingesting the corpus again" in err
    assert report["namespace"] == "eval:tiny:hash-64"
    assert report["ingest_seconds"] is not None


def test_documents_removed_from_the_corpus_do_not_linger(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _beir(workdir / "tiny")
    _eval(capsys, str(ds))
    _beir(ds, {i: DOCS[i] for i in ("d1", "d3")})
    _eval(capsys, str(ds))
    with Router.from_config() as router:
        assert router.count("eval:tiny") == 2
        assert router.get("eval:tiny", ["d2"]) == []


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("{tmp}", "is a folder, not a file"),
        ("{tmp}/missing/report.json", "missing does not exist"),
        ("{tmp}/tiny/corpus.jsonl/report.json", "corpus.jsonl is not a folder"),
    ],
)
def test_a_bad_json_path_is_refused_before_any_scoring(
    workdir: Path, capsys: pytest.CaptureFixture[str], where: str, message: str
) -> None:
    ds = _beir(workdir / "tiny")
    assert main(["eval", str(ds), "--modes", "dense", "--json", where.format(tmp=workdir)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --json: ")
    assert message in captured.err
    assert "Fix: name a file" in captured.err
    assert "nDCG" not in captured.out, "refused before scoring"
    with Router.from_config() as router:
        assert router.namespaces() == [], "nothing was ingested"


def test_notes_go_to_stderr_when_the_json_report_goes_to_stdout(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _beir(workdir / "tiny")
    for _ in range(2):  # the second run says it only scores
        assert main(["eval", str(ds), "--modes", "dense", "--json"]) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out)["namespace"] == "eval:tiny:hash-64"
    assert "already holds the 3 documents" in captured.err


def test_json_written_to_a_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = _beir(workdir / "tiny")
    assert main(["eval", str(ds), "--modes", "dense", "--json", "out.json"]) == 0
    assert "wrote out.json" in capsys.readouterr().out
    assert json.loads((workdir / "out.json").read_text())["namespace"] == "eval:tiny:hash-64"


def test_a_blank_judged_query_is_named_before_anything_is_ingested(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _beir(workdir / "tiny", q2=" ")
    assert main(["eval", str(ds), "--modes", "dense"]) == 2
    err = capsys.readouterr().err
    assert "queries.jsonl:2: query 'q2' has blank text" in err


def test_qrels_with_nothing_relevant_are_an_error_not_a_table_of_zeros(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = _beir(workdir / "tiny")
    (ds / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    assert main(["eval", str(ds), "--modes", "dense"]) == 2
    captured = capsys.readouterr()
    assert "test.tsv: no query has a relevant document" in captured.err
    assert "0.0000" not in captured.out
