"""Keyed identifiers through the router: stores hold digests, callers get their own ids back."""

import re

import pytest
from tests.unit.compliance.compliance_setup import SECRET, Setup, build

from vectorrouter.compliance import Keyring
from vectorrouter.errors import ConfigurationError, InvalidFilter, InvalidRecord
from vectorrouter.types import Namespace

DIGEST = re.compile(r"^k\d:[0-9a-f]{64}$")


def _ingest(s: Setup, ns: str = "acme:docs") -> None:
    s.router.ingest(
        ns,
        [
            {"id": "alice-cv.pdf#0", "text": "alice writes about glaciers", "metadata": {"user_id": "alice"}},
            {"id": "alice-cv.pdf#1", "text": "alice likes violins", "metadata": {"user_id": "alice"}},
            {"id": "bob-notes#0", "text": "bob writes about glaciers too", "metadata": {"user_id": "bob"}},
            {"id": "shared-faq", "text": "glaciers are slow rivers of ice", "metadata": {"lang": "en"}},
        ],
    )


def test_search_get_and_ingest_report_speak_the_callers_ids(setup: Setup) -> None:
    report = setup.router.ingest("acme:docs", [{"id": "own-id-1", "text": "violins and glaciers"}])
    assert report.ids == ["own-id-1"]
    _ingest(setup)
    hits = setup.router.search("acme:docs", "glaciers", k=10)
    assert {h.id for h in hits.hits} >= {"alice-cv.pdf#0", "bob-notes#0", "shared-faq"}
    assert [r.id for r in setup.router.get("acme:docs", ["bob-notes#0", "nope"])] == ["bob-notes#0"]


def test_stores_hold_only_digests_of_ids_and_user_references(setup: Setup) -> None:
    _ingest(setup)
    ns = "acme:docs:h32"
    vec = setup.router.indexes.for_model(setup.router.embeddings.spec("h32"))
    stored = [r for batch in vec.scroll(ns) for r in batch]
    stored += [r for batch in setup.keyword.scroll(ns) for r in batch]
    assert stored
    for r in stored:
        assert DIGEST.match(r.id), r.id
        if "user_id" in r.metadata:
            assert DIGEST.match(str(r.metadata["user_id"]))
    blob = repr(stored)
    for raw in ("alice-cv.pdf", "bob-notes", "'alice'", "'bob'"):
        assert raw not in blob


def test_the_same_document_id_in_two_tenants_gets_unrelated_digests(setup: Setup) -> None:
    setup.router.ingest("acme:docs", [{"id": "doc-1", "text": "x"}])
    setup.router.ingest("globex:docs", [{"id": "doc-1", "text": "x"}])
    a = setup.router.id_codec.to_stored(Namespace("acme", "docs", "h32"), ["doc-1"])
    b = setup.router.id_codec.to_stored(Namespace("globex", "docs", "h32"), ["doc-1"])
    assert a != b


def test_filter_on_a_user_reference_matches_that_users_digest(setup: Setup) -> None:
    _ingest(setup)
    hits = setup.router.search("acme:docs", "glaciers", k=10, filter={"user_id": "alice"})
    assert {h.id for h in hits.hits} == {"alice-cv.pdf#0", "alice-cv.pdf#1"}
    assert setup.router.count("acme:docs", {"user_id": {"$in": ["alice", "bob"]}}) == 3
    assert setup.router.count("acme:docs", {"user_id": {"$ne": "alice"}}) == 2
    with pytest.raises(InvalidFilter, match="keyed digests"):
        setup.router.count("acme:docs", {"user_id": {"$gt": 3}})


def test_delete_by_the_callers_id_removes_the_stored_digest(setup: Setup) -> None:
    _ingest(setup)
    assert setup.router.delete("acme:docs", ["bob-notes#0"]) == 1
    assert setup.router.get("acme:docs", ["bob-notes#0"]) == []
    assert setup.keyword.count("acme:docs:h32") == 3


def test_reingesting_an_id_after_rotation_replaces_it_instead_of_duplicating(setup: Setup) -> None:
    setup.router.ingest("acme:docs", [{"id": "d", "text": "first version", "metadata": {"user_id": "u"}}])
    setup.compliance.rotate_key("k2", b"second-secret-that-is-32-bytes-long!")
    setup.router.ingest("acme:docs", [{"id": "d", "text": "second version", "metadata": {"user_id": "u"}}])
    assert setup.router.count("acme:docs") == 1
    [rec] = setup.router.get("acme:docs", ["d"])
    assert rec.text == "second version"
    setup.router.ingest(
        "acme:docs", [{"id": "new", "text": "written under k2", "metadata": {"user_id": "v"}}]
    )
    stored = setup.router.id_codec.to_stored(Namespace("acme", "docs", "h32"), ["d", "new"])
    assert [s[:3] for s in stored] == ["k1:", "k2:"]
    assert setup.router.count("acme:docs", {"user_id": "u"}) == 1
    actions = [e.action for e in setup.compliance.audit.entries()]
    assert "key.rotated" in actions


def test_retiring_a_key_that_still_keys_identities_is_refused(setup: Setup) -> None:
    setup.router.ingest("acme:docs", [{"id": "d", "text": "x"}])
    setup.compliance.rotate_key("k2", b"second-secret-that-is-32-bytes-long!")
    with pytest.raises(ConfigurationError, match="still keyed with 'k1'"):
        setup.compliance.retire_key("k1")
    assert setup.router.get("acme:docs", ["d"])[0].id == "d"


def test_retiring_an_unused_key_reseals_the_vault_and_audits_it(setup: Setup) -> None:
    setup.compliance.rotate_key("k2", b"second-secret-that-is-32-bytes-long!")
    setup.router.ingest("acme:docs", [{"id": "d", "text": "x", "metadata": {"user_id": "u"}}])
    setup.compliance.retire_key("k1")
    assert setup.compliance.keyring.ids == ["k2"]
    assert setup.router.get("acme:docs", ["d"])[0].id == "d"
    assert [e.action for e in setup.compliance.audit.entries()][-1] == "key.retired"


def test_a_user_reference_that_is_not_a_string_is_refused_before_any_write(setup: Setup) -> None:
    with pytest.raises(InvalidRecord, match="user reference"):
        setup.router.ingest("acme:docs", [{"id": "d", "text": "x", "metadata": {"user_id": 42}}])
    assert setup.router.namespaces() == []


def test_keyed_ids_are_stable_across_processes_for_the_same_secret() -> None:
    a, b = build(), build()
    try:
        ns = Namespace("acme", "docs", "h32")
        assert a.router.id_codec.to_stored(ns, ["x"]) == b.router.id_codec.to_stored(ns, ["x"])
        other = build(keyring=Keyring({"k1": SECRET[::-1]}))
        assert other.router.id_codec.to_stored(ns, ["x"]) != a.router.id_codec.to_stored(ns, ["x"])
        other.compliance.close()
    finally:
        for s in (a, b):
            s.compliance.close()


def test_forget_without_a_compliance_layer_explains_how_to_attach_one() -> None:
    from vectorrouter import Router
    from vectorrouter.backends import NumpyBackend
    from vectorrouter.embeddings import TEST_MODEL, EmbeddingService

    router = Router(embeddings=EmbeddingService([TEST_MODEL]), vector_factory=NumpyBackend)
    with pytest.raises(ConfigurationError, match=r"Compliance\(\.\.\.\)\.attach"):
        router.forget("alice")


def test_scroll_gives_the_callers_ids_back_and_filters_on_user_references(setup: Setup) -> None:
    _ingest(setup)
    everything = [r.id for batch in setup.router.scroll("acme:docs") for r in batch]
    assert sorted(everything) == ["alice-cv.pdf#0", "alice-cv.pdf#1", "bob-notes#0", "shared-faq"]
    alice = [r.id for batch in setup.router.scroll("acme:docs", {"user_id": "alice"}) for r in batch]
    assert sorted(alice) == ["alice-cv.pdf#0", "alice-cv.pdf#1"]
