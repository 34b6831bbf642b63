"""Compliance on the ingest path: keyed ids, an encrypted identity vault, PII scrubbing, a metadata
allowlist, residency, a tamper-evident audit log and verified, resumable erasure.

>>> from vectorrouter.compliance import Compliance, Keyring, MetadataAllowlist, NamespacePolicy
>>> compliance = Compliance(keyring=Keyring.from_env(), database="compliance.sqlite",   # doctest: +SKIP
...                         allowlist=MetadataAllowlist({"*": NamespacePolicy({"lang", "title"})}))
>>> compliance.attach(router)                                                              # doctest: +SKIP
>>> router.forget("alice@example.com").summary()                                           # doctest: +SKIP

The PII scrubber needs the ``compliance`` extra (presidio-analyzer); it is imported only when built.
"""

from vectorrouter.compliance._db import Database
from vectorrouter.compliance.allowlist import MetadataAllowlist, NamespacePolicy
from vectorrouter.compliance.audit import AuditHead, AuditLog, AuditVerification, verify_log
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
from vectorrouter.compliance.residency import ResidencyDecision, ResidencyHook, ResidencyPolicy
from vectorrouter.compliance.vault import IdentityVault, VaultEntry

__all__ = [
    "AuditHead",
    "AuditLog",
    "AuditVerification",
    "Compliance",
    "Database",
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
    "ResidencyDecision",
    "ResidencyHook",
    "ResidencyPolicy",
    "RouterStores",
    "VaultEntry",
    "VaultIds",
    "generate_secret",
    "verify_log",
]
