"""BEIR loading, trec_eval-style metrics against hand-computed values, and the router evaluation runner."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from vectorrouter import TEST_MODEL, ConfigurationError, Router
from vectorrouter.evaluation import (
    CORPUS_KEY,
    PUBLISHED,
    BeirQuery,
    DatasetError,
    evaluate,
    format_report,
    load_beir,
    ndcg_at_k,
    rank_run,
    recall_at_k,
    report_json,
    stored_corpus,
)

SECRET = "goldsecretword"  # lives only in query metadata: it must never reach an index

CORPUS = [
    {"_id": "d1", "title": "Apple orchards", "text": "Growing fruit trees in cold climates.", "metadata": {}},
    {"_id": "d2", "title": "", "text": "Apples are red fruit.", "metadata": {}},
    {"_id": "d3", "title": "Pear", "text": "Pears are green.", "metadata": {}},
    {"_id": "d4", "title": "Zebra migration", "text": "Herds cross the plains each year.", "metadata": {}},
]
QUERIES = [
    {"_id": "q1", "text": "apple orchards", "metadata": {"d1": [{"sentences": [0], "label": SECRET}]}},
    {"_id": "q2", "text": "zebra", "metadata": {"evidence": SECRET}},
    {"_id": "q9", "text": "never judged", "metadata": {}},
]
QRELS = "query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq1\td2\t1\r\nq2\td4\t2\r\n"


def write_beir(
    root: Path,
    *,
    corpus: list[dict[str, object]] = CORPUS,
    qrels: str = QRELS,
    queries: list[dict[str, object]] = QUERIES,
    eol: str = "\n",
) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_bytes("".join(json.dumps(d) + eol for d in corpus).encode())
    (root / "queries.jsonl").write_bytes("".join(json.dumps(q) + eol for q in queries).encode())
    (root / "qrels" / "test.tsv").write_bytes(qrels.encode())
    return root


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "tiny")


@pytest.fixture
def router() -> Iterator[Router]:
    with Router.embedded(None, model=TEST_MODEL, vector_kind="numpy") as r:
        yield r


# -- loader -----------------------------------------------------------------------------------------
def test_qrels_lose_carriage_returns_and_header(beir_dir: Path) -> None:
    ds = load_beir(beir_dir)
    assert ds.qrels == {"q1": {"d1": 1, "d2": 1}, "q2": {"d4": 2}}
    assert ds.name == "tiny"
    assert ds.corpus["d1"].title == "Apple orchards"


def test_only_judged_query_texts_are_loaded_and_metadata_never_is(beir_dir: Path) -> None:
    ds = load_beir(beir_dir)
    assert ds.queries == {"q1": BeirQuery("q1", "apple orchards"), "q2": BeirQuery("q2", "zebra")}
    assert SECRET not in repr(ds)
    assert [q.id for q in ds.judged_queries()] == ["q1", "q2"]


def test_queries_without_relevant_documents_are_not_evaluated(tmp_path: Path) -> None:
    ds = load_beir(write_beir(tmp_path / "d", qrels="q1\td1\t1\nq2\td4\t0\n"))
    assert [q.id for q in ds.judged_queries()] == ["q1"]


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("q1\td1\n", r"test\.tsv:1 has 2 columns"),
        ("q1\td1\t1\nq1\td2\tyes\n", r"test\.tsv:2: score 'yes'"),
        ("q1\tnope\t1\n", "document 'nope'"),
        ("q7\td1\t1\n", "query 'q7'"),
        # a first line with a number that is not an integer is a bad judgement, not a header to skip
        ("q1\td1\t1.0\nq2\td4\t1\n", r"test\.tsv:1: score '1\.0' is not an integer"),
        ("q1\td1\t1\nq2\td4\t1.5\n", r"test\.tsv:2: score '1\.5' is not an integer"),
        # nothing relevant: scoring would print a table of zeros
        ("query-id\tcorpus-id\tscore\r\n", r"test\.tsv: no query has a relevant document.*no judgements"),
        ("q1\td1\t0\nq2\td4\t-1\n", r"test\.tsv: no query has a relevant document.*all 2 judgements"),
    ],
)
def test_bad_qrels_name_the_problem(tmp_path: Path, qrels: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_beir(write_beir(tmp_path / "d", qrels=qrels))


@pytest.mark.parametrize(
    "qrels",
    [
        "q1\td1\t1\nq2\td4\t2\n",  # no header: the first line is a judgement
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td4\t2\n",
        "qid\tdocid\trel\r\nq1\td1\t1\r\nq2\td4\t2\r\n",  # any header whose score column is not a number
        "\r\nq1\td1\t1\r\n\r\nq2\td4\t2",  # blank lines, CRLF, no final line end
    ],
)
def test_the_first_line_is_a_header_only_when_its_score_is_not_a_number(tmp_path: Path, qrels: str) -> None:
    assert load_beir(write_beir(tmp_path / "d", qrels=qrels)).qrels == {"q1": {"d1": 1}, "q2": {"d4": 2}}


def test_crlf_corpus_and_queries_load_like_lf(tmp_path: Path) -> None:
    crlf = load_beir(write_beir(tmp_path / "crlf", eol="\r\n"))
    lf = load_beir(write_beir(tmp_path / "lf"))
    assert crlf.corpus == lf.corpus
    assert crlf.queries == lf.queries
    assert crlf.digest() == lf.digest()


def test_a_judged_query_with_blank_text_is_refused_naming_file_line_and_id(tmp_path: Path) -> None:
    queries = [QUERIES[0], {"_id": "q2", "text": "  "}, QUERIES[2]]
    with pytest.raises(DatasetError, match=r"queries\.jsonl:2: query 'q2' has blank text"):
        load_beir(write_beir(tmp_path / "blank", queries=queries))
    no_text = [QUERIES[0], {"_id": "q2", "title": "zebra"}, QUERIES[2]]
    with pytest.raises(DatasetError, match=r"queries\.jsonl:2: query 'q2' has blank text"):
        load_beir(write_beir(tmp_path / "missing", queries=no_text))
    # a query nothing is relevant to is not searched: its blank text is no obstacle
    ds = load_beir(write_beir(tmp_path / "unjudged", queries=queries, qrels="q1\td1\t1\nq2\td4\t0\n"))
    assert [q.id for q in ds.judged_queries()] == ["q1"]


def test_the_corpus_digest_covers_ids_titles_and_texts_but_not_order(tmp_path: Path) -> None:
    digest = load_beir(write_beir(tmp_path / "a")).digest()
    assert load_beir(write_beir(tmp_path / "b", corpus=CORPUS[::-1])).digest() == digest
    changed = [
        [{**CORPUS[0], "text": "Other text."}, *CORPUS[1:]],
        [{**CORPUS[0], "title": "Other title"}, *CORPUS[1:]],
        [*CORPUS, {"_id": "d5", "title": "", "text": "extra"}],
        # the same text moved between title and text is another document
        [
            {**CORPUS[0], "title": "", "text": "Apple orchards Growing fruit trees in cold climates."},
            *CORPUS[1:],
        ],
    ]
    for n, corpus in enumerate(changed):
        assert load_beir(write_beir(tmp_path / f"c{n}", corpus=corpus)).digest() != digest


def test_bad_corpus_lines_name_file_and_line(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "d")
    (root / "corpus.jsonl").write_text(json.dumps(CORPUS[0]) + "\n{not json\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:2 is not valid JSON"):
        load_beir(root)
    (root / "corpus.jsonl").write_text(json.dumps(CORPUS[0]) + "\n" + json.dumps(CORPUS[0]) + "\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:2: document id 'd1' appears twice"):
        load_beir(root)


def test_missing_files_are_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope is not a folder .*Fix: point at a BEIR folder"):
        load_beir(tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl is not a folder"):
        load_beir(write_beir(tmp_path / "c") / "corpus.jsonl")
    with pytest.raises(DatasetError, match=r"qrels/test\.tsv does not exist"):
        load_beir(tmp_path)
    with pytest.raises(DatasetError, match=r"qrels/dev\.tsv"):
        load_beir(write_beir(tmp_path / "d"), split="dev")


# -- metrics ----------------------------------------------------------------------------------------
LOG2_3 = math.log2(3)  # the discount at rank 2
LOG2_5 = math.log2(5)  # the discount at rank 4


def test_ndcg_binary_relevance_by_hand() -> None:
    # relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal has them at ranks 1 and 2
    expected = (1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3)
    assert expected == pytest.approx(0.650921, abs=1e-6)
    assert ndcg_at_k(["d3", "d1", "d4", "d2"], {"d1": 1, "d2": 1}, 10) == pytest.approx(expected)


def test_ndcg_cuts_both_the_ranking_and_the_ideal_at_k() -> None:
    # at k=2 only d1 (rank 2) counts; the ideal still holds two relevant documents
    assert ndcg_at_k(["d3", "d1", "d4", "d2"], {"d1": 1, "d2": 1}, 2) == pytest.approx(
        (1 / LOG2_3) / (1 + 1 / LOG2_3)
    )
    assert ndcg_at_k(["d3"], {"d1": 1}, 1) == 0.0


def test_ndcg_uses_linear_gains_like_trec_eval() -> None:
    # graded: linear gains give (1 + 2/log2 3) / (2 + 1/log2 3) = 0.8597; exponential 2^rel-1 would give 0.7967
    got = ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 10)
    assert got == pytest.approx((1 + 2 / LOG2_3) / (2 + 1 / LOG2_3))
    assert got == pytest.approx(0.859719, abs=1e-6)


def test_ndcg_is_zero_without_relevant_documents_and_ignores_negative_judgements() -> None:
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0
    assert ndcg_at_k(["a", "b"], {"a": -1, "b": 1}, 10) == pytest.approx(1 / LOG2_3)


def test_recall_counts_relevant_found_within_k() -> None:
    rels = {"a": 1, "b": 1, "c": 0}
    assert recall_at_k(["x", "a", "c", "b"], rels, 1) == 0.0
    assert recall_at_k(["x", "a", "c", "b"], rels, 2) == 0.5
    assert recall_at_k(["x", "a", "c", "b"], rels, 100) == 1.0
    assert recall_at_k(["a"], {"a": 0}, 10) == 0.0


def test_ties_are_broken_by_document_id_descending_like_trec_eval() -> None:
    assert rank_run({"a": 1.0, "b": 1.0, "c": 2.0, "d": 0.5}) == ["c", "b", "a", "d"]


@pytest.mark.parametrize("k", [0, -1, True])
def test_metrics_refuse_a_non_positive_k(k: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        ndcg_at_k(["a"], {"a": 1}, k)


# -- the runner -------------------------------------------------------------------------------------
def test_evaluate_ingests_through_the_router_and_scores_every_mode(beir_dir: Path, router: Router) -> None:
    report = evaluate(router, load_beir(beir_dir), k=10)
    assert report.namespace == "eval:tiny:hash-64"
    assert router.count(report.namespace) == len(CORPUS)
    assert set(report.scores) == {"dense", "keyword", "hybrid"}
    keyword = report.scores["keyword"]
    # q1 "apple orchards": d1 (both words) then d2 (apple) - both relevant; q2 "zebra": d4 alone
    assert keyword.ndcg == pytest.approx(1.0)
    assert keyword.recall == pytest.approx(1.0)
    assert keyword.per_query_ndcg == {"q1": pytest.approx(1.0), "q2": pytest.approx(1.0)}
    assert keyword.served_by == "tantivy"
    assert report.queries == keyword.queries == 2
    assert report.ingest_seconds is not None


def test_titles_are_indexed_and_queries_left_empty_score_zero(beir_dir: Path, router: Router) -> None:
    # "zebra" appears only in d4's title: without titles q2 finds nothing and counts as 0, not as absent
    report = evaluate(
        router, load_beir(beir_dir), modes=("keyword",), titles=False, namespace="eval:notitles"
    )
    keyword = report.scores["keyword"]
    assert keyword.empty_results == 1
    assert keyword.per_query_ndcg["q2"] == 0.0
    assert keyword.ndcg == pytest.approx((keyword.per_query_ndcg["q1"] + 0.0) / 2)


def test_query_metadata_never_reaches_the_index(beir_dir: Path, router: Router) -> None:
    report = evaluate(router, load_beir(beir_dir), modes=("keyword",))
    assert router.search(report.namespace, SECRET, mode="keyword").hits == []
    assert router.search(report.namespace, "zebra", mode="keyword").ids == ["d4"]


def test_evaluate_can_score_an_already_ingested_namespace(beir_dir: Path, router: Router) -> None:
    ds = load_beir(beir_dir)
    first = evaluate(router, ds, modes=("keyword",))
    again = evaluate(router, ds, modes=("keyword",), ingest=False)
    assert again.ingest_seconds is None
    assert again.namespace == first.namespace
    assert again.scores["keyword"].per_query_ndcg == first.scores["keyword"].per_query_ndcg


def test_stored_corpus_tells_the_same_corpus_from_one_of_equal_size(tmp_path: Path, router: Router) -> None:
    ds = load_beir(write_beir(tmp_path / "tiny"))
    assert stored_corpus(router, ds) == (None, False)
    report = evaluate(router, ds, modes=("keyword",))
    assert stored_corpus(router, ds) == (4, True)
    assert router.get(report.namespace, ["d1"])[0].metadata == {CORPUS_KEY: ds.digest()}
    # the same folder rewritten with as many documents, other texts: counting alone took it for the same
    rewritten = [{**d, "text": f"replaced {d['_id']}"} for d in CORPUS]
    same_size = load_beir(write_beir(tmp_path / "tiny", corpus=rewritten))
    assert len(same_size.corpus) == router.count(report.namespace)
    assert stored_corpus(router, same_size) == (4, False)
    assert stored_corpus(router, ds, titles=False) == (4, False), "ingested with titles: another text"


def test_ingesting_again_replaces_the_namespace_so_nothing_stale_is_scored(
    tmp_path: Path, router: Router
) -> None:
    evaluate(router, load_beir(write_beir(tmp_path / "tiny")), modes=("keyword",))
    # "apple" and "zebra" are gone from the corpus; d3 is removed altogether
    rewritten = [
        {"_id": "d1", "title": "", "text": "Growing fruit trees."},
        {"_id": "d2", "title": "", "text": "Red fruit."},
        {"_id": "d4", "title": "", "text": "Herds cross the plains."},
    ]
    ds = load_beir(write_beir(tmp_path / "tiny", corpus=rewritten))
    again = evaluate(router, ds, modes=("keyword",))
    fresh = evaluate(router, ds, modes=("keyword",), namespace="eval:fresh")
    assert router.count(again.namespace) == 3, "documents no longer in the corpus do not linger"
    assert router.get(again.namespace, ["d3"]) == []
    assert again.namespace == "eval:tiny:hash-64"
    assert again.scores["keyword"].per_query_ndcg == fresh.scores["keyword"].per_query_ndcg
    assert again.scores["keyword"].ndcg == 0.0
    assert stored_corpus(router, ds) == (3, True)


def test_evaluating_into_a_namespace_holding_other_records_is_refused(beir_dir: Path, router: Router) -> None:
    router.ingest("acme:notes", [{"id": "n1", "text": "a note nobody may lose"}])
    with pytest.raises(ConfigurationError, match=r"acme:notes:hash-64 holds 1 records that no evaluation"):
        evaluate(router, load_beir(beir_dir), modes=("keyword",), namespace="acme:notes")
    assert router.get("acme:notes", ["n1"])[0].text == "a note nobody may lose"
    # the eval tenant is the evaluation's own: records written there before digests existed are replaced
    router.ingest("eval:tiny", [{"id": "old", "text": "left by an older evaluation"}])
    report = evaluate(router, load_beir(beir_dir), modes=("keyword",))
    assert router.count(report.namespace) == len(CORPUS)


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"k": 0}, "k"), ({"depth": -5}, "depth"), ({"modes": ("sparse",)}, "modes")]
)
def test_bad_evaluation_arguments_name_the_field(
    beir_dir: Path, router: Router, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{field}:"):
        evaluate(router, load_beir(beir_dir), **kwargs)  # type: ignore[arg-type]


def test_report_renders_beside_published_references_and_as_json(beir_dir: Path, router: Router) -> None:
    ds = load_beir(beir_dir, name="scifact")  # the tiny fixture posing as SciFact, to attach its references
    report = evaluate(router, ds, modes=("keyword", "dense"))
    table = format_report(report)
    keyword = report.scores["keyword"].ndcg
    assert "nDCG@10" in table
    assert "0.6650" in table
    assert "0.6789" in table
    assert "0.6451" in table
    assert f"keyword {keyword:.4f}  {keyword - 0.665:+.4f}" in table
    # the MiniLM figure is shown but not compared: this namespace was embedded by the hash test model
    (minilm_row,) = [line for line in table.splitlines() if line.startswith("all-MiniLM-L6-v2")]
    assert "dense" not in minilm_row
    assert report.model == TEST_MODEL.model
    data = json.loads(report_json(report))
    assert data["scores"]["keyword"]["ndcg"] == pytest.approx(keyword)
    assert "per_query_ndcg" not in data["scores"]["keyword"]
    assert {r["system"] for r in data["references"]} >= {"all-MiniLM-L6-v2 (MTEB)"}
    detailed = json.loads(report_json(report, per_query=True))
    assert set(detailed["scores"]["dense"]["per_query_ndcg"]) == {"q1", "q2"}


def test_dense_references_compare_only_with_their_own_model() -> None:
    (minilm,) = [r for r in PUBLISHED["scifact"] if r.mode == "dense"]
    assert minilm.comparable("sentence-transformers/all-MiniLM-L6-v2")
    assert not minilm.comparable("blake2b-bow")
    assert all(r.comparable("anything") for r in PUBLISHED["scifact"] if r.mode == "keyword")


def test_references_are_attached_to_the_test_split_only(tmp_path: Path, router: Router) -> None:
    root = write_beir(tmp_path / "scifact")
    (root / "qrels" / "train.tsv").write_bytes(QRELS.encode())
    assert evaluate(router, load_beir(root, split="train"), modes=("keyword",)).references == ()
    assert evaluate(router, load_beir(root), modes=("keyword",)).references == PUBLISHED["scifact"]
