"""forget with a keyring that does not match the stored data is refused before anything is erased.

With a key id given another secret (or left out), the user's digests match nothing stored: an erasure run
anyway finds nothing, erases nothing, and used to report "verified: nothing left" while every record stayed.
"""

from pathlib import Path

import pytest
from tests.unit.compliance.compliance_setup import SECRET, Setup, build

from vectorrouter.compliance import Keyring, RouterStores
from vectorrouter.errors import ConfigurationError

OTHER = b"another-secret-of-at-least-32-bytes!!"
NAMESPACES = ("acme:docs:h32", "acme:chat:h32")


def _seed(s: Setup, user: str = "alice") -> None:
    for ns in ("acme:docs", "acme:chat"):
        s.router.ingest(
            ns,
            [
                {"id": f"{ns}-{user}{i}", "text": f"{user} note {i}", "metadata": {"user_id": user}}
                for i in range(3)
            ],
        )


def _reopen(s: Setup, db: str, keyring: Keyring) -> Setup:
    """A new process over the same compliance database and the same stores, with another keyring."""
    again = build(db, keyring=keyring)
    again.router.ladder = s.router.ladder
    again.router.indexes = s.router.indexes
    again.router.keyword = again.keyword = s.keyword
    again.router.catalog = s.router.catalog
    again.compliance.eraser.providers.clear()
    again.compliance.eraser.register(RouterStores(again.router))
    return again


def _state(s: Setup) -> tuple[object, ...]:
    c = s.compliance
    jobs = c.db.query("SELECT COUNT(*) FROM vr_erasure_jobs")[0][0]
    return (
        [s.router.count(ns) for ns in NAMESPACES],
        [s.keyword.count(ns) for ns in NAMESPACES],
        c.vault.count(),
        c.index.count(),
        jobs,
        [e.action for e in c.audit.entries()],
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'compliance.sqlite'}"


def test_a_key_id_with_another_secret_is_refused_before_anything_is_erased_or_audited(db: str) -> None:
    s = build(db)
    _seed(s)
    before = _state(s)
    assert before[0] == [3, 3]
    s.compliance.close()

    wrong = _reopen(s, db, Keyring({"k1": OTHER}))
    with pytest.raises(ConfigurationError, match="key 'k1' has a different secret") as caught:
        wrong.router.forget("alice")
    assert "secret the data was written with" in str(caught.value)  # the fix
    with pytest.raises(ConfigurationError, match="key 'k1' has a different secret"):
        wrong.compliance.forget("alice")  # the Compliance face runs the same check
    wrong.compliance.close()

    right = _reopen(s, db, Keyring({"k1": SECRET}))
    assert _state(right) == before  # nothing erased, no job started, no audit entry written
    report = right.router.forget("alice")  # with the secret the data was written with, it goes
    assert report.ok
    assert report.deleted > 0
    assert [right.router.count(ns) for ns in NAMESPACES] == [0, 0]
    assert right.compliance.vault.count() == 0
    right.compliance.close()


def test_a_key_left_out_of_the_keyring_is_refused(db: str) -> None:
    s = build(db)
    _seed(s)
    before = _state(s)
    s.compliance.close()
    missing = _reopen(s, db, Keyring({"k2": OTHER}))
    with pytest.raises(ConfigurationError, match="key 'k1' is not in the keyring"):
        missing.router.forget("alice")
    missing.compliance.close()
    right = _reopen(s, db, Keyring({"k1": SECRET}))
    assert _state(right) == before
    right.compliance.close()


def test_a_proper_rotation_keeps_forget_working_across_processes(db: str) -> None:
    s = build(db)
    _seed(s)
    s.compliance.close()
    rotated = _reopen(s, db, Keyring({"k2": OTHER, "k1": SECRET}))  # new key first, old one kept live
    _seed(rotated, "bob")
    report = rotated.router.forget("alice")
    assert report.ok
    assert report.deleted > 0
    assert [rotated.router.count(ns) for ns in NAMESPACES] == [3, 3]  # bob's, written under k2
    assert rotated.router.forget("bob").ok
    assert [rotated.router.count(ns) for ns in NAMESPACES] == [0, 0]
    rotated.compliance.close()


def test_data_written_under_one_key_id_with_two_secrets_is_refused_with_either(db: str) -> None:
    s = build(db)
    _seed(s)
    s.compliance.close()
    wrong = _reopen(s, db, Keyring({"k1": OTHER}))
    wrong.compliance.vault._checked_key = "k1"  # as before ingest checked: bob's rows sealed with OTHER
    _seed(wrong, "bob")
    with pytest.raises(ConfigurationError, match="key 'k1' has a different secret"):
        wrong.router.forget("bob")  # the oldest rows do not open
    wrong.compliance.close()
    right = _reopen(s, db, Keyring({"k1": SECRET}))
    with pytest.raises(ConfigurationError, match="key 'k1' has a different secret"):
        right.router.forget("alice")  # the newest rows do not open
    assert right.router.count("acme:docs") == 6
    right.compliance.close()


def test_ingest_with_another_secret_for_the_key_is_refused_before_anything_is_written(db: str) -> None:
    s = build(db)
    _seed(s)
    before = _state(s)
    s.compliance.close()
    wrong = _reopen(s, db, Keyring({"k1": OTHER}))
    with pytest.raises(ConfigurationError, match="key 'k1' has a different secret") as caught:
        _seed(wrong, "bob")
    assert "looked up, written or erased" in str(caught.value)
    assert _state(wrong) == before  # no vault row, index row or record written
    wrong.compliance.close()
    rotated = _reopen(s, db, Keyring({"k2": OTHER, "k1": SECRET}))  # a new key id first: the right way
    _seed(rotated, "bob")
    assert [rotated.router.count(ns) for ns in NAMESPACES] == [6, 6]
    rotated.compliance.close()


def test_an_empty_vault_has_nothing_to_check(db: str) -> None:
    s = build(db)
    assert s.router.forget("nobody").ok
    s.compliance.close()
