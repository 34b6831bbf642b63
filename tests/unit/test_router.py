import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from vectorrouter import (
    And,
    ConfigurationError,
    DimensionMismatch,
    EmbeddingService,
    Eq,
    InvalidRecord,
    ModelSpec,
    NamespaceNotFound,
    Record,
    Router,
)
from vectorrouter.backends import NumpyBackend
from vectorrouter.backends.tantivy_keyword import TantivyBackend
from vectorrouter.hooks import IngestContext
from vectorrouter.routing import Catalog

WIDE = ModelSpec(version="hash-256", provider="hash", dimensions=256)
NARROW = ModelSpec(version="hash-96", provider="hash", dimensions=96)
TWIN = ModelSpec(version="hash-256b", provider="hash", dimensions=256)

DOCS = [
    Record(
        id="apple", text="apples are red fruit that grow on trees", metadata={"kind": "fruit", "year": 2020}
    ),
    Record(
        id="carrot",
        text="carrots are orange roots eaten as vegetables",
        metadata={"kind": "veg", "year": 2021},
    ),
    Record(
        id="quasar",
        text="a quasar is a luminous active galactic nucleus",
        metadata={"kind": "space", "year": 2022},
    ),
]


@pytest.fixture
def router() -> Iterator[Router]:
    r = Router(
        embeddings=EmbeddingService([WIDE, NARROW, TWIN]),
        vector_factory=NumpyBackend,
        default_model="hash-256",
    )
    yield r
    r.close()


def test_ingest_then_dense_search_finds_the_closest_text(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    result = router.search("acme:docs", "luminous galactic nucleus", k=2)
    assert result.hits[0].id == "quasar"
    assert result.namespace == "acme:docs:hash-256"
    assert result.mode == "dense"
    assert result.served_by == "numpy"
    assert result.query_id


def test_reingesting_the_same_ids_replaces_rather_than_duplicates(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    router.ingest("acme:docs", [Record(id="apple", text="green apples", metadata={"kind": "fruit"})])
    assert router.count("acme:docs") == 3
    assert router.get("acme:docs", ["apple"])[0].text == "green apples"


def test_bare_texts_get_content_ids_so_reingest_is_idempotent(router: Router) -> None:
    first = router.ingest("acme:notes", ["one note", "another note"])
    second = router.ingest("acme:notes", ["one note", "another note"])
    assert first.ids == second.ids
    assert router.count("acme:notes") == 2


def test_dict_items_are_accepted_and_unknown_keys_rejected(router: Router) -> None:
    router.ingest(
        "acme:docs", [{"id": "d1", "text": "hello", "title": "Greeting", "metadata": {"lang": "en"}}]
    )
    assert router.get("acme:docs", ["d1"])[0].metadata == {"lang": "en", "title": "Greeting"}
    with pytest.raises(InvalidRecord, match="unknown keys \\['body'\\]"):
        router.ingest("acme:docs", [{"id": "d2", "body": "x"}])


def test_invalid_item_means_nothing_is_written(router: Router) -> None:
    with pytest.raises(InvalidRecord):
        router.ingest("acme:docs", [DOCS[0], {"id": "bad", "text": "x", "metadata": {"n": {"deep": 1}}}])
    with pytest.raises(NamespaceNotFound):
        router.count("acme:docs")


def test_hooks_run_in_order_before_any_write(router: Router) -> None:
    seen: list[str] = []

    def tag(records: list[Record], ctx: IngestContext) -> list[Record]:
        seen.append(f"tag:{ctx.namespace}")
        return [Record(id=r.id, text=r.text, metadata={**r.metadata, "tagged": True}) for r in records]

    def drop_space(records: list[Record], ctx: IngestContext) -> list[Record]:
        seen.append("drop")
        assert all(r.metadata["tagged"] for r in records), "hooks see the previous hook's output"
        return [r for r in records if r.metadata["kind"] != "space"]

    router.hooks.extend([tag, drop_space])
    report = router.ingest("acme:docs", DOCS)
    assert seen == ["tag:acme:docs:hash-256", "drop"]
    assert report.written == 2
    assert router.get("acme:docs", ["apple"])[0].metadata["tagged"] is True


def test_a_raising_hook_stops_the_ingest_before_any_write(router: Router) -> None:
    def refuse(records: list[Record], ctx: IngestContext) -> list[Record]:
        raise InvalidRecord("no PII allowed")

    router.hooks.append(refuse)
    with pytest.raises(InvalidRecord, match="no PII"):
        router.ingest("acme:docs", DOCS)
    assert not router.catalog.exists("acme:docs:hash-256")


def test_models_of_different_width_go_to_different_indexes_and_equal_width_share_one(router: Router) -> None:
    router.ingest("acme:docs:hash-256", DOCS)
    router.ingest("acme:docs:hash-96", DOCS)
    router.ingest("acme:docs:hash-256b", DOCS[:1])
    names = sorted(spec.name for spec in router.indexes.open_indexes())
    assert names == ["vr-256d-cosine", "vr-96d-cosine"]
    assert router.count("acme:docs:hash-256") == 3
    assert router.count("acme:docs:hash-256b") == 1, "namespaces sharing an index stay apart"
    assert router.search("acme:docs:hash-96", "red apples", k=1).hits[0].id == "apple"


def test_writing_a_vector_of_the_wrong_width_names_both_numbers_and_writes_nothing(router: Router) -> None:
    bad = Record(id="v", text="x", vector=[0.1] * 768)
    with pytest.raises(DimensionMismatch, match="768 dimensions but 256 are expected"):
        router.ingest("acme:docs", [DOCS[0], bad])
    assert not router.catalog.exists("acme:docs:hash-256")


def test_search_with_a_precomputed_vector_checks_its_width(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    vec = router.embeddings.embed("hash-256", ["apples red fruit"], "query")[0]
    assert router.search("acme:docs", vector=vec.tolist(), k=1).hits[0].id == "apple"
    with pytest.raises(DimensionMismatch, match="1024 dimensions but 256"):
        router.search("acme:docs", vector=[0.0] * 1024)


def test_two_part_namespace_resolves_to_the_active_version(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    router.ingest("acme:docs:hash-96", DOCS[:1])
    assert router.resolve("acme:docs").model_version == "hash-256"
    router.catalog.set_active(router.resolve("acme:docs:hash-96"))
    assert router.search("acme:docs", "apples", k=5).namespace == "acme:docs:hash-96"
    router.ingest("acme:docs", DOCS[1:2])
    assert router.count("acme:docs:hash-96") == 2, "writes to the logical name go to the active version"


def test_namespace_model_pins_choose_the_version_of_a_new_namespace() -> None:
    r = Router(
        embeddings=EmbeddingService([WIDE, NARROW]),
        vector_factory=NumpyBackend,
        default_model="hash-256",
        namespace_models={"globex:faq": "hash-96"},
    )
    r.ingest("globex:faq", DOCS)
    assert str(r.resolve("globex:faq")) == "globex:faq:hash-96"
    r.close()


def test_unknown_namespace_is_a_clear_caller_error(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    with pytest.raises(NamespaceNotFound, match="'acme:faq' does not exist.*acme:docs"):
        router.search("acme:faq", "anything")


def test_filters_apply_to_search_count_and_delete(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    hits = router.search("acme:docs", "fruit", k=3, filter={"kind": {"$in": ["veg", "space"]}}).hits
    assert {h.id for h in hits} == {"carrot", "quasar"}
    assert router.count("acme:docs", {"year": {"$gte": 2021}}) == 2
    assert router.delete("acme:docs", filter=Eq("kind", "veg")) == 1
    assert router.count("acme:docs") == 2


def test_delete_needs_ids_or_filter_but_not_both(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    with pytest.raises(InvalidRecord, match="exactly one"):
        router.delete("acme:docs")
    with pytest.raises(InvalidRecord, match="exactly one"):
        router.delete("acme:docs", ["apple"], filter={"kind": "fruit"})
    with pytest.raises(InvalidRecord, match="not one string"):
        router.delete("acme:docs", "apple")
    assert router.delete("acme:docs", ["apple", "nope"]) == 1


def test_get_refuses_one_id_passed_as_a_string(router: Router) -> None:
    router.ingest("acme:docs", [*DOCS, Record(id="a", text="the letter a")])
    with pytest.raises(InvalidRecord, match=r"not one string; wrap it in a list: \[id\]"):
        router.get("acme:docs", "apple")  # would look up "a", "p", "p", "l", "e"
    assert [r.id for r in router.get("acme:docs", ["apple"])] == ["apple"]


def test_an_empty_filter_dict_does_not_empty_the_namespace(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    with pytest.raises(InvalidRecord, match=r"filter=\{\} would remove every record .*filter=And\(\(\)\)"):
        router.delete("acme:docs", filter={})
    assert router.count("acme:docs") == 3
    # on purpose, the explicit match-all filter empties it and the namespace stays usable
    assert router.delete("acme:docs", filter=And(())) == 3
    assert router.count("acme:docs") == 0


def test_drop_namespace_removes_records_and_the_catalog_entry(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    router.ingest("other:docs", DOCS)
    assert router.drop_namespace("acme:docs") == 3
    with pytest.raises(NamespaceNotFound):
        router.count("acme:docs")
    assert router.count("other:docs") == 3


def test_on_change_callbacks_fire_on_writes_and_deletes(router: Router) -> None:
    changed: list[str] = []
    router.on_change.append(lambda ns: changed.append(str(ns)))
    router.ingest("acme:docs", DOCS)
    router.delete("acme:docs", ["apple"])
    router.drop_namespace("acme:docs")
    assert changed == ["acme:docs:hash-256"] * 3


def test_keyword_and_hybrid_modes_need_a_keyword_store(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    with pytest.raises(ConfigurationError, match="keyword_store.kind"):
        router.search("acme:docs", "apples", mode="keyword")
    with pytest.raises(InvalidRecord, match="needs query text, a vector"):
        router.search("acme:docs")
    with pytest.raises(InvalidRecord, match="positive integer"):
        router.search("acme:docs", "x", k=0)


def test_async_face_runs_the_same_logic(router: Router) -> None:
    async def go() -> tuple[int, list[str], int]:
        await router.aingest("acme:docs", DOCS)
        res = await router.asearch("acme:docs", "orange roots", k=1)
        deleted = await router.adelete("acme:docs", ["carrot"])
        return await router.acount("acme:docs"), res.ids, deleted

    count, ids, deleted = asyncio.run(go())
    assert (count, ids, deleted) == (2, ["carrot"], 1)


def test_ingest_batches_and_reports(router: Router) -> None:
    texts = [f"note number {i}" for i in range(10)]
    report = router.ingest("acme:notes", texts, batch_size=3, progress=False)
    assert (report.written, report.batches) == (10, 4)


def test_catalog_and_records_survive_a_new_router_on_the_same_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def make() -> Router:
        return Router(
            embeddings=EmbeddingService([WIDE]),
            vector_factory=lambda spec: NumpyBackend(spec, tmp_path / spec.name),
            catalog=Catalog(tmp_path / "catalog.sqlite"),
        )

    first = make()
    first.ingest("acme:docs", DOCS)
    first.close()
    second = make()
    assert second.count("acme:docs") == 3
    assert second.search("acme:docs", "quasar nucleus", k=1).ids == ["quasar"]
    second.close()


def test_default_model_must_be_declared() -> None:
    with pytest.raises(ConfigurationError, match="unknown model version 'nope'"):
        Router(embeddings=EmbeddingService([WIDE]), vector_factory=NumpyBackend, default_model="nope")


def test_hash_embedder_is_stable_across_instances() -> None:
    a = EmbeddingService([WIDE]).embed("hash-256", ["same text"], "document")
    b = EmbeddingService([WIDE]).embed("hash-256", ["same text"], "document")
    assert np.array_equal(a, b)


def test_scroll_lists_matching_records_in_batches_with_caller_ids(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    batches = list(router.scroll("acme:docs", {"year": {"$gte": 2021}}, batch_size=1))
    assert [len(b) for b in batches] == [1, 1]
    assert sorted(r.id for b in batches for r in b) == ["carrot", "quasar"]
    assert all(r.vector is None for b in batches for r in b)
    with_vectors = [r for b in router.scroll("acme:docs", with_vectors=True) for r in b]
    assert len(with_vectors) == 3
    assert all(r.vector is not None and len(r.vector) == 256 for r in with_vectors)


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_a_blank_query_is_refused_rather_than_embedded(router: Router, blank: str) -> None:
    router.ingest("acme:docs", ["red apples", "green pears"])
    with pytest.raises(InvalidRecord, match="query text is blank .*pass words, or a vector"):
        router.search("acme:docs", blank)
    with pytest.raises(InvalidRecord, match="needs query text"):
        router.search("acme:docs", blank, vector=[0.1] * 256, mode="keyword")
    # with a vector, the blank text is ignored and the search is a dense one
    vector = router.embeddings.embed("hash-256", ["red apples"], "query")[0].tolist()
    found = router.search("acme:docs", blank, vector=vector)
    assert found.mode == "dense"
    assert found.hits[0].text == "red apples"


def test_a_query_that_is_not_text_names_the_fix(router: Router) -> None:
    router.ingest("acme:docs", ["red apples"])
    with pytest.raises(
        InvalidRecord, match="query must be text \\(str\\), got list; pass an embedding as vector="
    ):
        router.search("acme:docs", [0.1] * 256)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bare", ["red apples", Record(id="r", text="red apples"), {"id": "r", "text": "red"}]
)
def test_one_item_passed_bare_is_refused_not_split_into_characters(router: Router, bare: object) -> None:
    with pytest.raises(
        InvalidRecord, match=r"items must be a list .* not one \w+; wrap it in a list: \[item\]"
    ):
        router.ingest("acme:docs", bare)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="wrap it in a list"):
        asyncio.run(router.aingest("acme:docs", bare))  # type: ignore[arg-type]
    assert not router.catalog.exists("acme:docs:hash-256"), "nothing was written"


@pytest.mark.parametrize(("metadata", "kind"), [("lang=en", "str"), ([["lang", "en"]], "list"), (5, "int")])
def test_dict_items_with_metadata_that_is_not_a_mapping_are_refused(
    router: Router, metadata: object, kind: str
) -> None:
    items = [{"id": "ok", "text": "fine"}, {"id": "bad", "text": "x", "metadata": metadata}]
    with pytest.raises(
        InvalidRecord, match=rf"item 1: metadata must be a mapping of str to values, got {kind}"
    ):
        router.ingest("acme:docs", items)
    assert not router.catalog.exists("acme:docs:hash-256"), "nothing was written"


@pytest.mark.parametrize("size", [-1, 0, 2.5, True])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused_before_writing(
    router: Router, size: object
) -> None:
    with pytest.raises(
        InvalidRecord, match=r"batch_size must be a positive integer, got .*router's default \(64\)"
    ):
        router.ingest("acme:docs", DOCS, batch_size=size)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="batch_size must be a positive integer"):
        router.enqueue("acme:docs", DOCS, batch_size=size)  # type: ignore[arg-type]
    assert not router.catalog.exists("acme:docs:hash-256"), "nothing was written"
    assert router.queue.pending() == 0


def test_falsy_ids_are_ids_and_integer_ids_read_back() -> None:
    router = Router(
        embeddings=EmbeddingService([WIDE]), vector_factory=NumpyBackend, default_model="hash-256"
    )
    router.ingest("acme:rows", [{"id": 0, "text": "row zero"}, {"id": 7, "text": "row seven"}])
    router.ingest("acme:rows", [{"id": 0, "text": "row zero, edited"}])
    assert router.count("acme:rows") == 2, "id 0 was replaced, not stored under a content digest"
    assert [r.text for r in router.get("acme:rows", [0, "7"])] == ["row zero, edited", "row seven"]
    assert router.delete("acme:rows", [7]) == 1
    for bad in ({"id": False, "text": "x"}, {"id": {"n": 1}, "text": "x"}):
        with pytest.raises(InvalidRecord, match=r"item 0: id must be a string \(or an integer\)"):
            router.ingest("acme:rows", [bad])
    with pytest.raises(InvalidRecord, match="record id must be a non-empty string"):
        router.ingest("acme:rows", [{"id": "", "text": "x"}])
    with pytest.raises(InvalidRecord, match=r"ids\[1\] is None; ids are strings"):
        router.get("acme:rows", ["0", None])  # type: ignore[list-item]
    assert router.count("acme:rows") == 1


def test_none_where_a_list_belongs_is_an_invalid_record(router: Router) -> None:
    router.ingest("acme:docs", DOCS)
    with pytest.raises(InvalidRecord, match="items must be a list .* got NoneType"):
        router.ingest("acme:docs", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="ids must be a list of strings, got NoneType"):
        router.get("acme:docs", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="ids must be a list of strings, got NoneType"):
        asyncio.run(router.aget("acme:docs", None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), r"vector\[3\] is nan; a vector must hold finite numbers"),
        (float("inf"), r"vector\[3\] is inf"),
        ("a", r"the vector must hold numbers only, found 'a'"),
        (None, r"the vector must hold numbers only, found None"),
    ],
)
def test_vectors_must_hold_finite_numbers(value: object, message: str) -> None:
    router = Router(
        embeddings=EmbeddingService([WIDE]),
        vector_factory=NumpyBackend,
        keyword=TantivyBackend(),
        default_model="hash-256",
    )
    router.ingest("acme:docs", DOCS)
    vector: list[object] = [0.1] * 256
    vector[3] = value
    for mode in ("dense", "hybrid"):
        with pytest.raises(InvalidRecord, match="query: " + message):
            router.search("acme:docs", "apples", vector=vector, mode=mode)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="record 'v' in namespace acme:docs:hash-256: " + message):
        router.ingest("acme:docs", [Record(id="v", text="t", vector=vector)])  # type: ignore[arg-type]
    assert router.get("acme:docs", ["v"]) == [], "nothing was written"


def test_repeated_ids_in_one_call_keep_the_last_and_say_so(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    items = [{"id": "a", "text": "first"}, {"id": "b", "text": "other"}, {"id": "a", "text": "second"}]
    with caplog.at_level("WARNING", logger="vectorrouter"):
        report = router.ingest("acme:docs", items)
    assert report.written == 2
    assert [r.text for r in router.get("acme:docs", ["a"])] == ["second"]
    assert "acme:docs:hash-256: 1 of 3 items repeat an id given earlier in the same call" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="vectorrouter"):
        router.ingest("acme:docs", items[:2])
    assert "repeat an id" not in caplog.text


def test_text_that_is_not_unicode_is_named_not_a_unicode_error(router: Router) -> None:
    bad = "caf\udce9 au lait"  # what a latin-1 file read with errors="surrogateescape" gives
    with pytest.raises(InvalidRecord, match=r"record 'r1': text: '\\udce9' at position 3 is not a Unicode"):
        router.ingest("acme:docs", [Record(id="r1", text=bad)])
    with pytest.raises(InvalidRecord, match=r"record 'r\\ud800': id: .* is not a Unicode character"):
        router.ingest("acme:docs", [Record(id="r\ud800", text="fine")])
    router.ingest("acme:docs", DOCS)
    with pytest.raises(InvalidRecord, match=r"query: '\\udce9' at position 3"):
        router.search("acme:docs", bad)
