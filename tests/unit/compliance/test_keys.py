"""Keyrings and keyed digests: HMAC under named keys, rotation, configuration errors that name the fix."""

import base64
import subprocess
import sys

import pytest

from vectorrouter.compliance import KeyedIds, Keyring, generate_secret
from vectorrouter.compliance.keys import ENV_KEYS, split_digest
from vectorrouter.errors import ConfigurationError

S1, S2 = b"1" * 32, b"2" * 32


def test_digest_is_hmac_sha256_under_the_active_key_with_its_id_beside_it() -> None:
    d = KeyedIds(Keyring({"k1": S1})).user("alice")
    parts = split_digest(d)
    assert parts is not None
    assert parts[0] == "k1"
    assert len(parts[1]) == 64


def test_digests_are_the_same_in_a_fresh_process() -> None:
    secret = base64.b64encode(S1).decode()
    code = (
        "from vectorrouter.compliance import KeyedIds, Keyring;"
        f"print(KeyedIds(Keyring({{'k1': '{secret}'}})).user('alice'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == KeyedIds(Keyring({"k1": S1})).user("alice")


def test_kinds_and_scopes_never_collide() -> None:
    ids = KeyedIds(Keyring({"k1": S1}))
    assert ids.user("a") != ids.doc("", "a")
    assert ids.doc("ab", "c") != ids.doc("a", "bc")


def test_rotation_makes_the_new_key_active_and_keeps_old_digests_computable() -> None:
    ring = Keyring({"k1": S1})
    ids = KeyedIds(ring)
    old = ids.user("alice")
    ring.rotate("k2", S2)
    assert ids.user("alice").startswith("k2:")
    assert ids.user_all("alice") == [ids.user("alice"), old]
    ring.retire("k1")
    assert ids.user_all("alice") == [ids.user("alice")]


def test_the_active_key_cannot_be_retired() -> None:
    with pytest.raises(ConfigurationError, match="rotate to a new key first"):
        Keyring({"k1": S1}).retire("k1")


def test_keyring_reads_the_environment_active_key_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEYS, f"k2={generate_secret()}, k1={generate_secret()}")
    assert Keyring.from_env().ids == ["k2", "k1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is not set"),
        ("k1", "has no '='"),
        ("k1=not base64!", "not valid base64"),
        (f"k1={base64.b64encode(b'short').decode()}", "at least 32 are needed"),
        (f"bad id!={generate_secret()}", "key id"),
    ],
)
def test_bad_keyring_settings_name_the_variable_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv(ENV_KEYS, value)
    with pytest.raises(ConfigurationError, match=message) as err:
        Keyring.from_env()
    assert ENV_KEYS in str(err.value) or "compliance.keys" in str(err.value)


def test_secrets_never_appear_in_a_keys_repr() -> None:
    ring = Keyring({"k1": S1})
    assert "1111" not in repr(ring.active)
