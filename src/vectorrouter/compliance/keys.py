"""Keyed identifiers: HMAC-SHA256 digests of document ids and user references, with key rotation.

A :class:`Keyring` holds named secrets; the first is *active* (new digests use it) and the others stay
*live* so that data written under them is still found until they are retired. Each purpose gets its own
key derived with HKDF from the secret (one for identifiers, one for the vault's encryption), so a secret
is never used for two things. Digests read ``"<key id>:<64 hex>"``: the key id sits beside the digest.

Never Python's ``hash()``: it is salted per process, so a digest stored today would not be found tomorrow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vectorrouter.errors import ConfigurationError

__all__ = ["ENV_KEYS", "Key", "KeyedIds", "Keyring", "generate_secret", "split_digest"]

#: The environment variable a keyring is read from: ``"k2=<base64>,k1=<base64>"``, active key first.
ENV_KEYS = "VECTORROUTER_KEYS"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_DIGEST = re.compile(r"^([A-Za-z0-9_-]{1,16}):([0-9a-f]{64})$")
_MIN_SECRET = 32
_FIX = (
    'generate a secret with `python -c "from vectorrouter.compliance import generate_secret; '
    'print(generate_secret())"` and set it as `<key id>=<secret>`'
)


def generate_secret() -> str:
    """A fresh 32-byte secret, base64-encoded, for a keyring entry."""
    return base64.b64encode(secrets.token_bytes(_MIN_SECRET)).decode("ascii")


def _decode_secret(key_id: str, secret: str | bytes, where: str) -> bytes:
    if isinstance(secret, bytes):
        raw = secret
    else:
        try:
            raw = base64.b64decode(secret.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"the secret of key {key_id!r} is not valid base64", field=where, fix=_FIX
            ) from None
    if len(raw) < _MIN_SECRET:
        raise ConfigurationError(
            f"the secret of key {key_id!r} has {len(raw)} bytes; at least {_MIN_SECRET} are needed",
            field=where,
            fix=_FIX,
        )
    return raw


def split_digest(digest: str) -> tuple[str, str] | None:
    """``(key id, hex)`` for a keyed digest string, or ``None`` when ``digest`` is not one."""
    m = _DIGEST.match(digest)
    return (m.group(1), m.group(2)) if m else None


@dataclass(frozen=True, slots=True)
class Key:
    """One named secret. The secret never appears in ``repr``."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise ConfigurationError(
                f"key id {self.key_id!r} is invalid",
                field="compliance.keys",
                fix="use 1-16 characters from letters, digits, '_' and '-', e.g. 'k2025a'",
            )

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, so the same secret never signs and encrypts with one key."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"vectorrouter/{purpose}".encode())
        return hkdf.derive(self.secret)


class Keyring:
    """Named secrets; the first (or ``active``) signs new digests, all of them are searched.

    >>> ring = Keyring({"k1": b"a" * 32})
    >>> ring.active.key_id
    'k1'
    >>> ring.rotate("k2", b"b" * 32).ids
    ['k2', 'k1']
    """

    def __init__(self, keys: Mapping[str, str | bytes] | Iterable[Key], *, active: str | None = None) -> None:
        if isinstance(keys, Mapping):
            items = [Key(kid, _decode_secret(kid, s, "compliance.keys")) for kid, s in keys.items()]
        else:
            items = list(keys)
        if not items:
            raise ConfigurationError("the keyring is empty", field="compliance.keys", fix=_FIX)
        self._keys: dict[str, Key] = {}
        for key in items:
            if key.key_id in self._keys:
                raise ConfigurationError(f"key id {key.key_id!r} appears twice", field="compliance.keys")
            self._keys[key.key_id] = key
        self._active = active or items[0].key_id
        if self._active not in self._keys:
            raise ConfigurationError(
                f"active key {self._active!r} is not in the keyring",
                field="compliance.active_key",
                fix=f"use one of {', '.join(self._keys)}",
            )
        self._lock = threading.Lock()
        self._derived: dict[tuple[str, str], bytes] = {}

    @classmethod
    def from_env(cls, var: str = ENV_KEYS) -> Keyring:
        """Read ``"k2=<base64>,k1=<base64>"`` from the environment; the first key is active."""
        text = os.environ.get(var, "").strip()
        if not text:
            raise ConfigurationError(f"environment variable {var} is not set", field=var, fix=_FIX)
        keys: list[Key] = []
        for part in text.split(","):
            kid, sep, secret = part.strip().partition("=")
            if not sep:
                raise ConfigurationError(f"entry {kid[:8]!r}… has no '='", field=var, fix=_FIX)
            keys.append(Key(kid.strip(), _decode_secret(kid.strip(), secret, var)))
        return cls(keys)

    @property
    def active(self) -> Key:
        return self._keys[self._active]

    @property
    def ids(self) -> list[str]:
        """Key ids, active first."""
        return [self._active, *(k for k in self._keys if k != self._active)]

    def get(self, key_id: str) -> Key:
        try:
            return self._keys[key_id]
        except KeyError:
            raise ConfigurationError(
                f"key {key_id!r} is not in the keyring (it was retired, or the keyring is incomplete)",
                field="compliance.keys",
                fix="add the key back until the data it signed has been re-keyed",
            ) from None

    def derived(self, key_id: str, purpose: str) -> bytes:
        slot = (key_id, purpose)
        out = self._derived.get(slot)
        if out is None:
            out = self._derived[slot] = self.get(key_id).derive(purpose)
        return out

    def rotate(self, key_id: str, secret: str | bytes) -> Keyring:
        """Add ``key_id`` and make it active; the old keys stay live for lookups. Returns ``self``."""
        key = Key(key_id, _decode_secret(key_id, secret, "compliance.keys"))
        with self._lock:
            if key_id in self._keys:
                raise ConfigurationError(
                    f"key id {key_id!r} is already in the keyring", field="compliance.keys"
                )
            self._keys[key_id] = key
            self._active = key_id
        return self

    def retire(self, key_id: str) -> None:
        """Drop a key: digests under it are no longer computed. Only after its data has been re-keyed."""
        with self._lock:
            if key_id == self._active:
                raise ConfigurationError(
                    f"key {key_id!r} is active", field="compliance.keys", fix="rotate to a new key first"
                )
            self.get(key_id)
            del self._keys[key_id]
            self._derived = {k: v for k, v in self._derived.items() if k[0] != key_id}


def _message(kind: str, scope: str, value: str) -> bytes:
    # length-prefixed parts: ("a", "bc") and ("ab", "c") must never produce the same message
    out = bytearray()
    for part in (kind, scope, value):
        raw = part.encode("utf-8")
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


class KeyedIds:
    """HMAC-SHA256 digests of identifiers, domain-separated by kind and scope.

    Document ids are scoped by tenant (the same id in two tenants gives unrelated digests); user
    references are global, so one ``forget`` finds a user in every tenant.

    >>> ids = KeyedIds(Keyring({"k1": b"s" * 32}))
    >>> d = ids.user("alice@example.com")
    >>> d.startswith("k1:"), len(d), d == ids.user("alice@example.com")
    (True, 67, True)
    >>> ids.doc("acme", "doc-1") != ids.doc("globex", "doc-1")
    True
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def digest(self, kind: str, scope: str, value: str, *, key_id: str | None = None) -> str:
        kid = key_id or self.keyring.active.key_id
        mac = hmac.new(self.keyring.derived(kid, "ids"), _message(kind, scope, value), hashlib.sha256)
        return f"{kid}:{mac.hexdigest()}"

    def every(self, kind: str, scope: str, value: str) -> list[str]:
        """The digest under every live key, active first: what lookups and erasure search for."""
        return [self.digest(kind, scope, value, key_id=kid) for kid in self.keyring.ids]

    def user(self, user_id: str) -> str:
        return self.digest("user", "", user_id)

    def user_all(self, user_id: str) -> list[str]:
        return self.every("user", "", user_id)

    def doc(self, tenant: str, doc_id: str) -> str:
        return self.digest("doc", tenant, doc_id)

    def doc_all(self, tenant: str, doc_id: str) -> list[str]:
        return self.every("doc", tenant, doc_id)
