"""The metadata allowlist: unknown keys are dropped (logged, counted) or rejected, never stored silently."""

import logging

import pytest
from tests.unit.compliance.compliance_setup import Setup, build

from vectorrouter.compliance import MetadataAllowlist, NamespacePolicy
from vectorrouter.embeddings import TEST_MODEL
from vectorrouter.errors import ConfigurationError, InvalidRecord
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Namespace, Record


def ctx(logical: str = "acme:docs") -> IngestContext:
    tenant, feature = logical.split(":")
    return IngestContext(Namespace(tenant, feature, "v1"), TEST_MODEL)


def test_dropping_removes_unknown_keys_logs_their_names_and_counts_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    allow = MetadataAllowlist({"acme:*": NamespacePolicy({"lang"}, on_unknown="drop")})
    recs = [
        Record("a", "t", {"lang": "en", "email": "x@example.org", "phone": "555"}),
        Record("b", "t", {"email": "y"}),
    ]
    with caplog.at_level(logging.WARNING, logger="vectorrouter.compliance"):
        out = allow(recs, ctx())
    assert [dict(r.metadata) for r in out] == [{"lang": "en"}, {}]
    assert allow.dropped == {("acme:docs", "email"): 2, ("acme:docs", "phone"): 1}
    assert "email" in caplog.text
    assert "x@example.org" not in caplog.text


def test_rejecting_names_the_key_the_record_and_the_fix() -> None:
    allow = MetadataAllowlist({"acme:docs": NamespacePolicy({"lang"})})
    with pytest.raises(InvalidRecord, match=r"record 'b' in acme:docs: metadata key 'email'.*Fix: .*allow"):
        allow([Record("a", "t", {"lang": "en"}), Record("b", "t", {"email": "x"})], ctx())


def test_the_most_specific_rule_wins() -> None:
    allow = MetadataAllowlist(
        {
            "*": NamespacePolicy(set(), on_unknown="drop"),
            "acme:*": NamespacePolicy({"lang"}, on_unknown="drop"),
            "acme:docs": NamespacePolicy({"lang", "title"}, on_unknown="drop"),
        }
    )
    rec = [Record("a", "t", {"lang": "en", "title": "T"})]
    assert dict(allow(rec, ctx("acme:docs"))[0].metadata) == {"lang": "en", "title": "T"}
    assert dict(allow(rec, ctx("acme:chat"))[0].metadata) == {"lang": "en"}
    assert dict(allow(rec, ctx("globex:kb"))[0].metadata) == {}


def test_a_namespace_without_any_rule_is_refused_with_the_fix() -> None:
    allow = MetadataAllowlist({"acme:docs": NamespacePolicy({"lang"})})
    with pytest.raises(ConfigurationError, match=r"globex:kb.*has no metadata allowlist.*Fix"):
        allow([Record("a", "t", {})], ctx("globex:kb"))


def test_bad_rule_patterns_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="must be 'tenant:feature'"):
        MetadataAllowlist({"acme": NamespacePolicy({"lang"})})
    with pytest.raises(ConfigurationError, match="on_unknown"):
        NamespacePolicy({"lang"}, on_unknown="ignore")  # type: ignore[arg-type]


def test_a_rejected_ingest_writes_nothing_anywhere() -> None:
    s: Setup = build()
    with pytest.raises(InvalidRecord, match="'ssn'"):
        s.router.ingest(
            "acme:docs",
            [
                {"id": "ok", "text": "fine", "metadata": {"lang": "en"}},
                {"id": "bad", "text": "x", "metadata": {"ssn": "1"}},
            ],
        )
    assert s.router.namespaces() == []
    assert s.compliance.vault.count() == 0
    assert s.compliance.index.count() == 0
    s.compliance.close()
