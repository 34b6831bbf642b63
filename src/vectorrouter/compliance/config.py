"""The ``[compliance]`` section of ``vectorrouter.toml``. With it, every router built from the file has the
compliance layer attached, and ``vectorrouter forget`` / ``vectorrouter audit verify`` know where to look::

    [compliance]
    database = "compliance.sqlite"     # under `path`; or "postgresql://…", or "env" for $DATABASE_URL
    keys_env = "VECTORROUTER_KEYS"     # the keyring: "k2=<base64>,k1=<base64>", active key first
    audit_key_env = "VECTORROUTER_AUDIT_KEY"   # optional: a base64 secret makes the audit chain an HMAC chain
    user_fields = ["user_id"]          # metadata fields holding user references (stored as keyed digests)

    [compliance.metadata."*"]          # per `tenant:feature`, `tenant:*` or `*`: the only keys stored
    allow = ["lang", "title"]
    on_unknown = "reject"              # or "drop"

    [compliance.pii]                   # optional: scrub PII from metadata values (and texts, if asked)
    scrub_text = false

    [compliance.residency]             # optional: regions of namespaces and of the ladder's steps
    namespaces = { "acme-eu:*" = "EU", "acme-us:*" = "US" }
    stores = { primary = ["EU"], secondary = ["US"], keyword = ["EU", "US"] }

Secrets never sit in the file: it names the environment variables that hold them. This module needs only
pydantic; the layer itself (``cryptography``, ``presidio``) is imported when :meth:`ComplianceConfig.build`
runs.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vectorrouter.compliance._db import database_url
from vectorrouter.errors import ConfigurationError

if TYPE_CHECKING:
    from vectorrouter.compliance._db import Database
    from vectorrouter.compliance.core import Compliance

__all__ = ["ComplianceConfig", "MetadataRule", "PiiConfig", "ResidencyConfig"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetadataRule(_Strict):
    """``[compliance.metadata."<tenant:feature | tenant:* | *>"]``."""

    allow: list[str] = Field(default_factory=list)
    on_unknown: Literal["drop", "reject"] = "reject"


class PiiConfig(_Strict):
    """``[compliance.pii]``: the presidio-based scrubber (needs the ``compliance`` extra)."""

    kinds: list[str] | None = None
    scrub_text: bool = False
    threshold: float = Field(0.4, ge=0.0, le=1.0)


class ResidencyConfig(_Strict):
    """``[compliance.residency]``: region of each namespace pattern, regions each ladder step may hold."""

    namespaces: dict[str, str]
    #: Keyed by ladder step name, as ``vectorrouter status`` lists them.
    stores: dict[str, list[str]]
    field: str = "region"
    untagged: Literal["any", "unrestricted-stores"] = "any"


class ComplianceConfig(_Strict):
    """``[compliance]``."""

    database: str = "compliance.sqlite"
    postgres_schema: str | None = None
    keys_env: str = "VECTORROUTER_KEYS"
    audit_key_env: str | None = None
    user_fields: list[str] = Field(default_factory=lambda: ["user_id"])
    #: Search every namespace for residue on ``forget``, not only the ones the erasure index names.
    sweep: bool = True
    metadata: dict[str, MetadataRule] = Field(default_factory=dict)
    pii: PiiConfig | None = None
    residency: ResidencyConfig | None = None

    @model_validator(mode="after")
    def _has_rules(self) -> ComplianceConfig:
        if not self.metadata:
            raise ValueError(
                'needs at least one metadata rule, e.g. [compliance.metadata."*"] allow = ["lang"] '
                "(without one every ingest is refused: no key may be stored silently)"
            )
        if not self.user_fields:
            raise ValueError('user_fields needs at least one field, e.g. ["user_id"]')
        return self

    # -- opening ----------------------------------------------------------------------------------
    def database_url(self, root: Path | None) -> str:
        """Where the vault, erasure index, jobs and audit log live (a relative SQLite path is under ``root``)."""
        if self.database == "env":
            url = os.environ.get("DATABASE_URL", "")
            if not url:
                raise ConfigurationError(
                    "compliance.database is 'env' and $DATABASE_URL is not set",
                    field="compliance.database",
                    fix="export DATABASE_URL=postgresql://… or give a path",
                )
            return url
        url = database_url(self.database)  # an unknown scheme is refused, not taken for a file name
        if "://" in url or url == ":memory:":
            return url
        path = Path(url)
        if not path.is_absolute():
            path = (root or Path.cwd()) / path
        return str(path)

    def open_database(self, root: Path | None) -> Database:
        from vectorrouter.compliance._db import Database

        return Database.connect(self.database_url(root), schema=self.postgres_schema)

    def audit_key(self) -> bytes | None:
        if self.audit_key_env is None:
            return None
        text = os.environ.get(self.audit_key_env, "").strip()
        if not text:
            raise ConfigurationError(
                f"environment variable {self.audit_key_env} (the audit key) is not set",
                field="compliance.audit_key_env",
                fix="export it (a base64 secret, e.g. from vectorrouter.compliance.generate_secret()) "
                "or remove audit_key_env",
            )
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"{self.audit_key_env} is not valid base64", field="compliance.audit_key_env"
            ) from None

    def build(self, root: Path | None, *, step_names: Mapping[str, str] | None = None) -> Compliance:
        """The compliance layer this section describes (not yet attached to a router).

        ``step_names`` maps the ladder section's aliases (``primary``, ``keyword``) to the step names the ladder
        reports, so ``[compliance.residency] stores`` may use either.
        """
        from vectorrouter.compliance.allowlist import MetadataAllowlist, NamespacePolicy
        from vectorrouter.compliance.core import Compliance
        from vectorrouter.compliance.keys import Keyring
        from vectorrouter.compliance.residency import ResidencyPolicy

        keyring = Keyring.from_env(self.keys_env)
        allowlist = MetadataAllowlist(
            {p: NamespacePolicy(frozenset(r.allow), r.on_unknown) for p, r in self.metadata.items()}
        )
        residency = None
        if self.residency is not None:
            stores: dict[str, list[str]] = {}
            for name, regions in self.residency.stores.items():
                step = (step_names or {}).get(name, name)
                if step in stores:
                    raise ConfigurationError(
                        f"step {step!r} is declared twice (as {name!r} and under another name)",
                        field=f"compliance.residency.stores.{name}",
                        fix="declare each step once",
                    )
                stores[step] = regions
            residency = ResidencyPolicy(
                self.residency.namespaces,
                stores,
                field=self.residency.field,
                untagged=self.residency.untagged,
            )
        scrubber = None
        if self.pii is not None:
            from vectorrouter.compliance.pii import PiiScrubber

            scrubber = PiiScrubber(
                self.pii.kinds, threshold=self.pii.threshold, scrub_text=self.pii.scrub_text
            )
        audit_key = self.audit_key()
        return Compliance(
            keyring=keyring,
            allowlist=allowlist,
            database=self.open_database(root),
            scrubber=scrubber,
            residency=residency,
            user_fields=self.user_fields,
            audit_key=audit_key,
            sweep=self.sweep,
        )
