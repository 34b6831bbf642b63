"""Compliance on the ingest path: keyed ids, an encrypted identity vault, PII scrubbing, a metadata
allowlist, residency, a tamper-evident audit log and verified, resumable erasure.

>>> from vectorrouter.compliance import Compliance, Keyring, MetadataAllowlist, NamespacePolicy
>>> compliance = Compliance(keyring=Keyring.from_env(), database="compliance.sqlite",   # doctest: +SKIP
...                         allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang", "title"})}))
>>> compliance.attach(router)                                                              # doctest: +SKIP
>>> router.forget("alice@example.com").summary()                                           # doctest: +SKIP

The PII scrubber needs the ``compliance`` extra (presidio-analyzer); it is imported only when built.
Names are imported on first use, so ``vectorrouter.compliance.config`` (read by every configuration file)
does not need ``cryptography`` until a ``[compliance]`` section is actually built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vectorrouter.compliance._db import Database
    from vectorrouter.compliance.allowlist import MetadataAllowlist, NamespacePolicy
    from vectorrouter.compliance.audit import AuditHead, AuditLog, AuditVerification, verify_log
    from vectorrouter.compliance.caches import CachePlaces, EmbeddingTrail
    from vectorrouter.compliance.config import ComplianceConfig
    from vectorrouter.compliance.core import Compliance
    from vectorrouter.compliance.erasure import (
        Eraser,
        ErasurePlace,
        ErasureReport,
        ErasureTarget,
        PlaceProvider,
        PlaceReport,
    )
    from vectorrouter.compliance.identity import KeyedIdHook, VaultIds
    from vectorrouter.compliance.index import ErasureIndex
    from vectorrouter.compliance.keys import KeyedIds, Keyring, generate_secret
    from vectorrouter.compliance.pii import PiiScrubber, PiiSpan
    from vectorrouter.compliance.places import RouterStores
    from vectorrouter.compliance.queues import QueuePlaces
    from vectorrouter.compliance.residency import (
        ResidencyDecision,
        ResidencyGate,
        ResidencyHook,
        ResidencyPolicy,
    )
    from vectorrouter.compliance.vault import IdentityVault, VaultEntry

_WHERE = {
    "AuditHead": "audit",
    "AuditLog": "audit",
    "AuditVerification": "audit",
    "CachePlaces": "caches",
    "Compliance": "core",
    "ComplianceConfig": "config",
    "Database": "_db",
    "EmbeddingTrail": "caches",
    "Eraser": "erasure",
    "ErasureIndex": "index",
    "ErasurePlace": "erasure",
    "ErasureReport": "erasure",
    "ErasureTarget": "erasure",
    "IdentityVault": "vault",
    "KeyedIdHook": "identity",
    "KeyedIds": "keys",
    "Keyring": "keys",
    "MetadataAllowlist": "allowlist",
    "NamespacePolicy": "allowlist",
    "PiiScrubber": "pii",
    "PiiSpan": "pii",
    "PlaceProvider": "erasure",
    "PlaceReport": "erasure",
    "QueuePlaces": "queues",
    "ResidencyDecision": "residency",
    "ResidencyGate": "residency",
    "ResidencyHook": "residency",
    "ResidencyPolicy": "residency",
    "RouterStores": "places",
    "VaultEntry": "vault",
    "VaultIds": "identity",
    "generate_secret": "keys",
    "verify_log": "audit",
}

__all__ = [
    "AuditHead",
    "AuditLog",
    "AuditVerification",
    "CachePlaces",
    "Compliance",
    "ComplianceConfig",
    "Database",
    "EmbeddingTrail",
    "Eraser",
    "ErasureIndex",
    "ErasurePlace",
    "ErasureReport",
    "ErasureTarget",
    "IdentityVault",
    "KeyedIdHook",
    "KeyedIds",
    "Keyring",
    "MetadataAllowlist",
    "NamespacePolicy",
    "PiiScrubber",
    "PiiSpan",
    "PlaceProvider",
    "PlaceReport",
    "QueuePlaces",
    "ResidencyDecision",
    "ResidencyGate",
    "ResidencyHook",
    "ResidencyPolicy",
    "RouterStores",
    "VaultEntry",
    "VaultIds",
    "generate_secret",
    "verify_log",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vectorrouter.compliance.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
