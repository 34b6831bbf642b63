"""The ``[ladder]`` configuration section: names, order, policies, and the errors it reports."""

from __future__ import annotations

import pytest

from vectorrouter.config import parse_config
from vectorrouter.errors import ConfigurationError
from vectorrouter.ladder import CacheStep, KeywordStep, StepPolicy, VectorStep
from vectorrouter.ladder.config import LadderConfig, StepPolicyConfig

BASE = {
    "path": None,
    "models": {"h": {"provider": "hash", "dimensions": 16}},
    "default_model": "h",
    "vector_store": {"kind": "numpy"},
    "keyword_store": {"kind": None},
}


def cfg(**ladder: object) -> dict[str, object]:
    return {**BASE, "ladder": ladder}


def test_without_a_ladder_section_the_primary_store_is_the_whole_ladder() -> None:
    router = parse_config(dict(BASE)).build()
    assert [h.name for h in router.health()] == ["numpy"]
    assert router.ladder.order == ("numpy",)
    router.close()


def test_extra_stores_policies_and_namespace_lists_are_built() -> None:
    router = parse_config(
        cfg(
            steps=["primary", "secondary"],
            stores={"secondary": {"kind": "numpy"}},
            policy={"timeout_ms": 250, "failure_threshold": 3},
            policies={"secondary": {"retries": 0, "recovery_s": 2}},
            namespaces={"acme:faq": {"steps": ["secondary"]}},
        )
    ).build()
    steps = router.ladder.steps
    assert isinstance(steps["secondary"], VectorStep)
    assert router.ladder.order == ("numpy", "secondary")
    primary, secondary = steps["numpy"].policy, steps["secondary"].policy
    assert primary.timeout == pytest.approx(0.25), "[ladder.policy] applies to in-process stores too when set"
    assert primary.failure_threshold == 3
    assert (secondary.retries, secondary.recovery_timeout, secondary.failure_threshold) == (0, 2.0, 3)
    assert router.ladder.namespaces == {"acme:faq": ("secondary",)}
    router.close()


def test_in_process_stores_default_to_inline_calls_and_remote_ones_to_a_timeout() -> None:
    ladder = LadderConfig()
    assert ladder.policy_for("numpy", "numpy", "numpy", None) == StepPolicy.in_process()
    remote = ladder.policy_for("qdrant", "qdrant", "numpy", None)
    assert remote.timeout == StepPolicy().timeout
    assert remote.retries == 1


def test_a_store_whose_client_retries_itself_gets_no_ladder_retry_unless_asked() -> None:
    pinecone = LadderConfig().policy_for("pinecone", "pinecone", "numpy", None)
    assert (pinecone.retries, pinecone.timeout) == (0, StepPolicy().timeout)
    asked = LadderConfig.model_validate({"policies": {"primary": {"retries": 2}}})
    assert asked.policy_for("pinecone", "pinecone", "pinecone", None).retries == 2  # the primary step


def test_step_policy_section_converts_milliseconds() -> None:
    p = StepPolicyConfig(timeout_ms=300, max_wait_ms=5, backoff_initial_ms=10).apply(StepPolicy())
    assert (p.timeout, p.max_wait, p.backoff_initial) == (0.3, 0.005, 0.01)


@pytest.mark.parametrize(
    ("ladder", "message"),
    [
        ({"steps": ["primary", "nope"]}, "ladder.steps: unknown step 'nope'"),
        ({"steps": ["primary", "keyword"]}, "unknown step 'keyword' \\(set \\[keyword_store\\] kind\\)"),
        ({"steps": ["primary", "cache"]}, "add a \\[ladder.cache\\] section"),
        ({"stores": {"primary": {"kind": "numpy"}}}, "'primary' is built in"),
        ({"stores": {"numpy": {"kind": "numpy"}}}, "already a built-in step's"),
        ({"policies": {"ghost": {"retries": 0}}}, "ladder.policies: unknown step 'ghost'"),
        ({"namespaces": {"a:b": {"steps": ["x"]}}}, "ladder.namespaces.a:b.steps: unknown step 'x'"),
        ({"policy": {"timeout_ms": -1}}, "ladder.policy.timeout_ms"),
        ({"cache": {"hot_ttl_s": 900, "popular_ttl_s": 60}}, "hot_ttl_s <= popular_ttl_s"),
        (
            {"cache": {"url": "http://nope"}},
            "ladder.cache.url: 'http://nope' is not a Redis URL; use redis://",
        ),
        ({"steps": ["primary"], "bogus": 1}, "ladder.bogus: unknown key"),
    ],
)
def test_invalid_ladder_sections_name_the_field(ladder: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_config(cfg(**ladder))


def test_kind_order_is_checked_when_the_ladder_is_built() -> None:
    config = parse_config(
        {
            **BASE,
            "keyword_store": {"kind": None},
            "ladder": {"steps": ["kw", "primary"], "stores": {"kw": {"kind": "numpy", "role": "vector"}}},
        }
    )
    router = config.build()  # two vector stores in either order are fine
    assert router.ladder.order == ("kw", "numpy")
    router.close()


def test_cache_section_builds_a_cache_step_after_the_vector_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("redis")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never contacted while building
    router = parse_config(cfg(cache={"prefix": "vr:cfgtest"})).build()
    assert router.ladder.order == ("numpy", "cache")
    cache = router.ladder.steps["cache"]
    assert isinstance(cache, CacheStep)
    assert cache.policy.failure_threshold == 3
    assert cache.cache.prefix == "vr:cfgtest"
    assert cache.invalidate in router.on_change
    router.close()


def test_keyword_kind_equal_to_the_vector_kind_gets_its_own_name() -> None:
    names = LadderConfig.builtin_names("elasticsearch", "elasticsearch")
    assert names == {"primary": "elasticsearch", "keyword": "elasticsearch-keyword"}
    assert KeywordStep.kind == "keyword"
