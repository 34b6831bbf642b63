"""forget(user_id): every namespace and model version, verified, idempotent, resumable, audited."""

from pathlib import Path

import pytest
from tests.unit.compliance.compliance_setup import Setup, build

from vectorrouter.compliance import ErasureTarget
from vectorrouter.compliance.places import StorePlace
from vectorrouter.errors import InvalidRecord


def _seed(s: Setup) -> None:
    for ns in ("acme:docs", "acme:docs:h64", "acme:chat", "globex:kb"):
        s.router.ingest(
            ns,
            [
                {
                    "id": f"{ns}-a{i}",
                    "text": f"alice note {i} about glaciers",
                    "metadata": {"user_id": "alice"},
                }
                for i in range(5)
            ]
            + [{"id": f"{ns}-b", "text": "bob note about glaciers", "metadata": {"user_id": "bob"}}]
            + [{"id": f"{ns}-faq", "text": "shared faq about glaciers", "metadata": {"lang": "en"}}],
        )


def test_forget_erases_the_user_from_every_namespace_version_and_store(setup: Setup) -> None:
    _seed(setup)
    report = setup.router.forget("alice")
    assert report.ok, report.summary()
    places = {p.place: p for p in report.places}
    # 5 distinct texts, cached once per model version that embedded them (h32 and h64)
    assert places["embedding-cache"].deleted == 10
    # vector + keyword records, vault: 20 docs + the user, embedding cache
    assert report.deleted == 4 * 5 * 2 + 4 * 5 + 1 + 10
    assert places["vector/acme:docs:h64"].deleted == 5
    assert places["keyword/globex:kb:h32"].deleted == 5
    assert places["vault"].deleted == 21
    for ns in ("acme:docs:h32", "acme:docs:h64", "acme:chat:h32", "globex:kb:h32"):
        assert setup.router.count(ns, {"user_id": "alice"}) == 0
        assert setup.router.count(ns) == 2
        assert setup.keyword.count(ns) == 2
        found = {h.id for h in setup.router.search(ns, "alice note glaciers", k=10).hits}
        assert found
        assert not any("-a" in i for i in found), found
    assert setup.compliance.index.where(setup.compliance.ids.user_all("alice")) == {}
    assert setup.compliance.index.where(setup.compliance.ids.user_all("bob")) != {}


def test_forget_leaves_other_users_and_their_ids_intact(setup: Setup) -> None:
    _seed(setup)
    setup.router.forget("alice")
    hits = setup.router.search("acme:chat", "bob glaciers", k=10).hits
    assert "acme:chat-b" in {h.id for h in hits}
    assert all(not h.id.startswith("k1:") for h in hits)


def test_forget_twice_finds_nothing_the_second_time_and_still_verifies(setup: Setup) -> None:
    _seed(setup)
    first = setup.router.forget("alice")
    second = setup.router.forget("alice")
    assert first.deleted > 0
    assert second.ok
    assert second.deleted == 0
    assert all(p.found == 0 for p in second.places)


def test_forget_of_an_unknown_user_is_a_verified_no_op(setup: Setup) -> None:
    _seed(setup)
    before = setup.router.count("acme:docs")
    report = setup.router.forget("nobody")
    assert report.ok
    assert report.deleted == 0
    assert setup.router.count("acme:docs") == before


def test_forget_keeps_a_record_that_another_user_has_since_overwritten(setup: Setup) -> None:
    setup.router.ingest(
        "acme:docs", [{"id": "same", "text": "alice wrote it", "metadata": {"user_id": "alice"}}]
    )
    setup.router.ingest(
        "acme:docs", [{"id": "same", "text": "bob rewrote it", "metadata": {"user_id": "bob"}}]
    )
    report = setup.router.forget("alice")
    assert report.ok
    [rec] = setup.router.get("acme:docs", ["same"])
    assert rec.id == "same"
    assert rec.text == "bob rewrote it"


def test_an_interrupted_forget_resumes_and_skips_the_places_already_done(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'compliance.sqlite'}"
    s = build(db)
    _seed(s)
    calls: list[str] = []
    original = StorePlace.erase

    def crash_on_third(self: StorePlace, target: ErasureTarget) -> int:
        calls.append(self.name)
        if len(calls) == 3:
            raise RuntimeError("process killed mid-erasure")
        return original(self, target)

    StorePlace.erase = crash_on_third  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="killed"):
            s.router.forget("alice")
    finally:
        StorePlace.erase = original  # type: ignore[method-assign]
    done_before = calls[:2]
    s.compliance.close()

    # a new process: same database, same stores
    again = build(db)
    again.router.ladder = s.router.ladder
    again.router.indexes = s.router.indexes
    again.router.keyword = s.keyword
    again.router.catalog = s.router.catalog
    again.compliance.eraser.providers.clear()
    from vectorrouter.compliance import RouterStores

    again.compliance.eraser.register(RouterStores(again.router))
    erased: list[str] = []

    def record(self: StorePlace, target: ErasureTarget) -> int:
        erased.append(self.name)
        return original(self, target)

    StorePlace.erase = record  # type: ignore[method-assign]
    try:
        report = again.router.forget("alice")
    finally:
        StorePlace.erase = original  # type: ignore[method-assign]
    assert report.ok
    assert report.resumed
    assert not set(done_before) & set(erased)
    assert {p.place for p in report.places if p.resumed} == set(done_before)
    for ns in ("acme:docs:h32", "acme:docs:h64", "acme:chat:h32", "globex:kb:h32"):
        assert again.router.count(ns, {"user_id": "alice"}) == 0
    actions = [e.action for e in again.compliance.audit.entries()]
    assert actions.count("erasure.started") == 1
    assert actions.count("erasure.resumed") == 1
    assert actions[-1] == "erasure.verified"
    assert again.compliance.audit.verify().ok
    again.compliance.close()


def test_residue_left_by_a_store_is_reported_and_not_called_verified(setup: Setup) -> None:
    _seed(setup)
    original = StorePlace.erase

    def keyword_ignores_deletes(self: StorePlace, target: ErasureTarget) -> int:
        return 0 if self.kind == "keyword" else original(self, target)

    StorePlace.erase = keyword_ignores_deletes  # type: ignore[method-assign]
    try:
        report = setup.router.forget("alice")
    finally:
        StorePlace.erase = original  # type: ignore[method-assign]
    assert not report.ok
    residue = {p.place: p.residue for p in report.places if p.residue}
    assert residue == {
        f"keyword/{ns}": 5 for ns in ("acme:chat:h32", "acme:docs:h32", "acme:docs:h64", "globex:kb:h32")
    }
    assert "RESIDUE FOUND" in report.summary()
    last = list(setup.compliance.audit.entries())[-1]
    assert last.action == "erasure.residue"
    assert last.details["residue"] == 20
    # the index is kept, so a later forget can finish the job
    assert setup.compliance.index.where(setup.compliance.ids.user_all("alice"))
    assert setup.router.forget("alice").ok


def test_the_audit_log_of_an_erasure_holds_digests_and_never_the_identity(setup: Setup) -> None:
    _seed(setup)
    setup.router.forget("alice")
    text = repr([(e.action, e.subject, e.details_json) for e in setup.compliance.audit.entries()])
    assert "alice" not in text
    assert setup.compliance.ids.user("alice") in text
    assert setup.compliance.audit.verify().ok


def test_records_written_before_a_key_rotation_are_forgotten_too(setup: Setup) -> None:
    setup.router.ingest("acme:docs", [{"id": "old", "text": "x", "metadata": {"user_id": "alice"}}])
    setup.compliance.rotate_key("k2", b"second-secret-that-is-32-bytes-long!")
    setup.router.ingest("acme:docs", [{"id": "new", "text": "y", "metadata": {"user_id": "alice"}}])
    report = setup.router.forget("alice")
    assert report.ok
    assert setup.router.count("acme:docs") == 0
    assert setup.compliance.vault.count() == 0


def test_forget_needs_a_user_id(setup: Setup) -> None:
    with pytest.raises(InvalidRecord, match="non-empty string"):
        setup.router.forget("")


def test_the_async_face_runs_the_same_forget(setup: Setup) -> None:
    import asyncio

    _seed(setup)
    report = asyncio.run(setup.router.aforget("alice"))
    assert report.ok
    assert setup.router.count("acme:docs", {"user_id": "alice"}) == 0


def test_forget_trims_queued_and_dead_lettered_events_of_the_in_process_queue(setup: Setup) -> None:
    r = setup.router
    r.enqueue("acme:docs", [{"id": "a", "text": "alice queued", "metadata": {"user_id": "alice"}}])
    r.enqueue(
        "acme:docs",
        [
            {"id": "b", "text": "alice dead", "metadata": {"user_id": "alice"}},
            {"id": "c", "text": "bob dead", "metadata": {"user_id": "bob"}},
        ],
    )
    [first, second] = r.queue.claim("w", 10)
    r.queue.dead_letter(second, "store rejected it")
    r.queue.retry(first, "later", 0.0)
    report = r.forget("alice")
    assert report.ok, report.summary()
    places = {p.place: p for p in report.places}
    assert (places["ingest-queue:memory"].found, places["ingest-queue:memory"].deleted) == (1, 1)
    assert (places["dead-letter:memory"].found, places["dead-letter:memory"].deleted) == (1, 1)
    left = [(e.event_id, [rec.text for rec in e.records]) for e in r.queue.scan()]
    assert left == [(second.event.event_id, ["bob dead"])]  # bob's record survives, trimmed, same event
