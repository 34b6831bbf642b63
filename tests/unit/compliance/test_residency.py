"""The residency policy: pure decisions about which stores may serve which region."""

import pytest

from vectorrouter.compliance import ResidencyHook, ResidencyPolicy
from vectorrouter.embeddings import TEST_MODEL
from vectorrouter.errors import ConfigurationError, ResidencyViolation, is_caller_error
from vectorrouter.hooks import IngestContext
from vectorrouter.types import Namespace, Record

POLICY = ResidencyPolicy(
    namespaces={"acme-eu:*": "EU", "acme-us:*": "US", "clinic:notes": "HIPAA"},
    stores={
        "primary-eu": {"EU"},
        "secondary-us": {"US"},
        "result-cache": {"EU", "US"},
        "keyword-eu": {"EU"},
        "hipaa-store": {"HIPAA"},
        "scratch": set(),
    },
)
LADDER = ["primary-eu", "secondary-us", "result-cache", "keyword-eu"]
EU = Namespace("acme-eu", "docs", "v1")


def test_eu_data_is_served_only_by_eu_steps_in_ladder_order() -> None:
    d = POLICY.steps_for(EU, LADDER, "read")
    assert d.region == "EU"
    assert d.allowed == ("primary-eu", "result-cache", "keyword-eu")
    assert d.refused == ("secondary-us",)


def test_with_the_compliant_steps_down_the_answer_is_a_violation_not_another_region() -> None:
    with pytest.raises(ResidencyViolation, match="needs a store of region EU") as err:
        POLICY.require(EU, ["secondary-us"], "read")
    assert err.value.region == "EU"
    assert is_caller_error(err.value)  # the ladder stops instead of falling back


def test_writes_follow_the_same_rule() -> None:
    d = POLICY.require(Namespace("clinic", "notes", "v2"), ["primary-eu", "hipaa-store"], "write")
    assert d.allowed == ("hipaa-store",)
    assert d.audit_details() == {
        "operation": "write",
        "region": "HIPAA",
        "allowed": ["hipaa-store"],
        "refused": ["primary-eu"],
    }


def test_untagged_namespaces_use_any_store_or_only_unrestricted_ones() -> None:
    ns = Namespace("globex", "kb", "v1")
    assert POLICY.steps_for(ns, ["primary-eu", "scratch"], "read").allowed == ("primary-eu", "scratch")
    strict = ResidencyPolicy(POLICY.namespaces, POLICY.stores, untagged="unrestricted-stores")
    assert strict.steps_for(ns, ["primary-eu", "scratch"], "read").allowed == ("scratch",)


def test_a_store_without_declared_regions_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"compliance\.residency\.stores\.mystery"):
        POLICY.steps_for(EU, ["mystery"], "read")


def test_bad_region_tags_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a region tag"):
        ResidencyPolicy({"*": "eu"}, {})


def test_ingest_hook_refuses_a_record_tagged_for_another_region() -> None:
    hook = ResidencyHook(POLICY)
    ctx = IngestContext(EU, TEST_MODEL)
    assert hook([Record("a", "t", {"region": "EU"}), Record("b", "t")], ctx)
    with pytest.raises(ResidencyViolation, match="tagged region='US'"):
        hook([Record("c", "t", {"region": "US"})], ctx)


def test_a_lower_case_tag_of_the_right_region_is_refused_with_the_right_fix() -> None:
    hook = ResidencyHook(POLICY)
    ctx = IngestContext(EU, TEST_MODEL)
    with pytest.raises(ResidencyViolation, match=r"Fix: region tags are upper case: tag it region='EU'"):
        hook([Record("c", "t", {"region": "eu"})], ctx)
    with pytest.raises(ResidencyViolation, match=r"Fix: write it to a namespace of region 'US'"):
        hook([Record("d", "t", {"region": "US"})], ctx)
