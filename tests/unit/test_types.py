import math

import pytest

from vectorrouter.errors import InvalidNamespace, InvalidRecord
from vectorrouter.types import Namespace, Record, parse_logical


def test_namespace_string_form_round_trips() -> None:
    ns = Namespace("acme", "support", "minilm-l6")
    assert str(ns) == "acme:support:minilm-l6"
    assert Namespace.parse(str(ns)) == ns
    assert ns.logical == "acme:support"
    assert ns.with_version("v2") == Namespace("acme", "support", "v2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme:support", "three parts"),
        ("a:b:c:d", "three parts"),
        ("acme::v1", "feature ''"),
        ("ac me:docs:v1", "tenant 'ac me'"),
        ("-acme:docs:v1", "starting with a letter or digit"),
        ("acme:docs:" + "v" * 65, "1-64 characters"),
    ],
)
def test_invalid_namespaces_name_the_part_and_the_rule(text: str, message: str) -> None:
    with pytest.raises(InvalidNamespace, match=message):
        Namespace.parse(text)


def test_parse_logical_accepts_two_or_three_parts() -> None:
    assert parse_logical("acme:docs") == ("acme", "docs", None)
    assert parse_logical("acme:docs:v1") == ("acme", "docs", "v1")
    with pytest.raises(InvalidNamespace):
        parse_logical("acme")


def test_record_validates_metadata_and_copies_it() -> None:
    md = {"a": 1, "tags": ("x", "y")}
    r = Record(id="1", text="t", metadata=md)
    assert r.metadata == {"a": 1, "tags": ["x", "y"]}
    md["a"] = 2
    assert r.metadata["a"] == 1


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"nested": {"a": 1}}, "metadata\\['nested'\\] has type dict"),
        ({"x": math.nan}, "finite"),
        ({"x": [1, {"a": 2}]}, "list holding something other"),
        ({"_vr_ns": "x"}, "reserved prefix"),
        ({"": 1}, "non-empty string"),
    ],
)
def test_bad_metadata_is_rejected_naming_the_key(metadata: dict, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        Record(id="1", text="t", metadata=metadata)


def test_record_needs_a_non_empty_string_id() -> None:
    with pytest.raises(InvalidRecord, match="non-empty string"):
        Record(id="", text="t")
    with pytest.raises(InvalidRecord, match="non-empty string"):
        Record(id=5, text="t")  # type: ignore[arg-type]


def test_serving_info_is_plain_data_naming_every_attempt() -> None:
    from vectorrouter.types import Attempt, Hit, SearchResult

    result = SearchResult(
        hits=[Hit("a", 0.9, "text", {})],
        namespace="acme:docs:v1",
        mode="dense",
        served_by="secondary",
        degraded=True,
        attempts=(
            Attempt("primary", "timeout", 200.0, "no answer"),
            Attempt("secondary", "ok", 1.5, "1 hits"),
        ),
        latency_ms=201.5,
        query_id="q1",
    )
    info = result.serving_info()
    assert info["served_by"] == "secondary"
    assert info["degraded"] is True
    assert [a["outcome"] for a in info["attempts"]] == ["timeout", "ok"]
    assert info["attempts"][0]["detail"] == "no answer"
    assert (info["namespace"], info["mode"], info["query_id"]) == ("acme:docs:v1", "dense", "q1")
