"""The ``[ladder]`` section of ``vectorrouter.toml``: which stores each namespace's searches walk, guarded how.

Three steps are built in: ``primary`` is ``[vector_store]``, ``keyword`` is ``[keyword_store]`` and ``cache``
is ``[ladder.cache]``. Results and health report the first two by their store kind (``qdrant``, ``tantivy``…),
which step lists may use too. Further stores are declared under ``[ladder.stores.<name>]``::

    [ladder]
    steps = ["primary", "secondary", "cache", "keyword"]   # the default for every namespace

    [ladder.stores.secondary]
    kind = "pinecone"                     # any registered vector or keyword kind
    role = "vector"                       # or "keyword"
    options = { host = "https://my-index-abc.svc.pinecone.io" }

    [ladder.cache]
    url = "redis://127.0.0.1:6379/0"

    [ladder.policy]                       # defaults for every remote store
    timeout_ms = 800
    [ladder.policies.primary]             # overrides for one step
    failure_threshold = 3

    [ladder.namespaces."acme:support"]    # one namespace walks its own list
    steps = ["primary", "keyword"]

Without a ``[ladder]`` section the ladder is ``primary`` then ``keyword`` (when a keyword store is configured).
Embedded stores (numpy, qdrant-edge, tantivy) are called inline without retries; remote ones get a timeout and one
retry unless configured otherwise (Pinecone none: its SDK retries on its own).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from vectorrouter.ladder.step import StepPolicy

if TYPE_CHECKING:
    from vectorrouter.backends.base import KeywordBackend
    from vectorrouter.ladder.walk import Ladder
    from vectorrouter.policies.clock import Clock
    from vectorrouter.routing.indexes import VectorFactory

__all__ = [
    "IN_PROCESS_KINDS",
    "SELF_RETRYING_KINDS",
    "CacheConfig",
    "LadderConfig",
    "StepPolicyConfig",
    "StoreConfig",
]

#: Store kinds that run inside the process: no network, so no timeout thread and no retries by default.
IN_PROCESS_KINDS = frozenset({"numpy", "qdrant-edge", "tantivy"})
#: Remote kinds whose client retries failed requests itself (Pinecone's SDK: 408/429/5xx, up to three times,
#: not configurable for the data plane): no ladder retry by default, so one failed search is not up to eight
#: requests and the walk moves on to the next step after one timeout.
SELF_RETRYING_KINDS = frozenset({"pinecone"})
BUILT_IN = ("primary", "keyword", "cache")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepPolicyConfig(_Strict):
    """Every key is optional; an unset key keeps the default for the store's kind."""

    timeout_ms: PositiveFloat | None = None
    retries: NonNegativeInt | None = None
    backoff_initial_ms: PositiveFloat | None = None
    backoff_max_ms: PositiveFloat | None = None
    max_retry_after_s: float | None = Field(default=None, ge=0)
    retry_timeouts: bool | None = None
    failure_threshold: PositiveInt | None = None
    recovery_s: float | None = Field(default=None, ge=0)
    half_open_probes: PositiveInt | None = None
    max_concurrent: PositiveInt | None = None
    max_wait_ms: float | None = Field(default=None, ge=0)
    write_attempts: PositiveInt | None = None

    def apply(self, base: StepPolicy) -> StepPolicy:
        """``base`` with this section's keys laid over it."""
        ms = 1000.0
        mapping: dict[str, Any] = {
            "timeout": None if self.timeout_ms is None else self.timeout_ms / ms,
            "retries": self.retries,
            "backoff_initial": None if self.backoff_initial_ms is None else self.backoff_initial_ms / ms,
            "backoff_max": None if self.backoff_max_ms is None else self.backoff_max_ms / ms,
            "max_retry_after": self.max_retry_after_s,
            "retry_timeouts": self.retry_timeouts,
            "failure_threshold": self.failure_threshold,
            "recovery_timeout": self.recovery_s,
            "half_open_max_calls": self.half_open_probes,
            "max_concurrent": self.max_concurrent,
            "max_wait": None if self.max_wait_ms is None else self.max_wait_ms / ms,
            "write_attempts": self.write_attempts,
        }
        return dataclasses.replace(base, **{k: v for k, v in mapping.items() if v is not None})


class StoreConfig(_Strict):
    kind: str
    role: Literal["vector", "keyword"] = "vector"
    options: dict[str, Any] = Field(default_factory=dict)


class CacheConfig(_Strict):
    #: Redis URL; empty means the ``REDIS_URL`` environment variable, else redis://127.0.0.1:6379/0.
    url: str = ""
    prefix: str = "vr:rc"
    hot_ttl_s: PositiveFloat = 30.0
    popular_ttl_s: PositiveFloat = 600.0
    popular_after: PositiveInt = 3
    popularity_window_s: PositiveFloat = 3600.0
    stale_ttl_s: PositiveFloat = 86400.0
    socket_timeout_ms: PositiveFloat = 50.0

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"{value!r} is not a Redis URL; use redis://host:6379/0 (rediss:// for TLS, unix:///path.sock), "
                "or leave it out for $REDIS_URL"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CacheConfig:
        if not self.hot_ttl_s <= self.popular_ttl_s <= self.stale_ttl_s:
            raise ValueError("need hot_ttl_s <= popular_ttl_s <= stale_ttl_s")
        return self

    def resolved_url(self) -> str:
        return self.url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


class NamespaceLadderConfig(_Strict):
    steps: list[str]


class LadderConfig(_Strict):
    steps: list[str] | None = None
    stores: dict[str, StoreConfig] = Field(default_factory=dict)
    cache: CacheConfig | None = None
    policy: StepPolicyConfig = Field(default_factory=StepPolicyConfig)
    policies: dict[str, StepPolicyConfig] = Field(default_factory=dict)
    namespaces: dict[str, NamespaceLadderConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> LadderConfig:
        for name in self.stores:
            if name in BUILT_IN:
                raise ValueError(f"ladder.stores.{name}: {name!r} is built in; give this store another name")
        return self

    @staticmethod
    def builtin_names(primary_kind: str, keyword_kind: str | None) -> dict[str, str]:
        """The reported names of the built-in steps: their store kinds, so results say which store answered."""
        out = {"primary": primary_kind}
        if keyword_kind:
            out["keyword"] = keyword_kind if keyword_kind != primary_kind else f"{keyword_kind}-keyword"
        return out

    def _kinds(self, primary_kind: str, keyword_kind: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """(alias or name → step name, step name → step kind) for every step this configuration defines."""
        builtin = self.builtin_names(primary_kind, keyword_kind)
        alias = {**builtin, **{v: v for v in builtin.values()}}
        kinds = {builtin["primary"]: "vector"}
        if "keyword" in builtin:
            kinds[builtin["keyword"]] = "keyword"
        if self.cache is not None:
            alias["cache"] = "cache"
            kinds["cache"] = "cache"
        for name, store in self.stores.items():
            if name in kinds:
                raise ValueError(
                    f"ladder.stores.{name}: the name {name!r} is already a built-in step's; rename this store"
                )
            alias[name] = name
            kinds[name] = store.role
        return alias, kinds

    def resolve(self, names: list[str], where: str, primary_kind: str, keyword_kind: str | None) -> list[str]:
        """Step names with aliases (``primary``, ``keyword``) resolved; ``ValueError`` names an unknown one."""
        alias, _ = self._kinds(primary_kind, keyword_kind)
        out = []
        for name in names:
            if name not in alias:
                hint = " (set [keyword_store] kind)" if name == "keyword" else ""
                hint += " (add a [ladder.cache] section)" if name == "cache" else ""
                raise ValueError(
                    f"{where}: unknown step {name!r}{hint}; defined steps: {', '.join(sorted(alias))}"
                )
            out.append(alias[name])
        return out

    def default_steps(self, primary_kind: str, keyword_kind: str | None) -> list[str]:
        if self.steps is not None:
            return self.resolve(list(self.steps), "ladder.steps", primary_kind, keyword_kind)
        _, kinds = self._kinds(primary_kind, keyword_kind)
        order = {"vector": 0, "cache": 1, "keyword": 2}
        builtin = [n for n in kinds if n not in self.stores]
        return sorted(builtin, key=lambda n: order[kinds[n]])

    def check(self, primary_kind: str, keyword_kind: str | None) -> None:
        """Raise ``ValueError`` naming the field when a list names an undefined step (pydantic reports it)."""
        self.default_steps(primary_kind, keyword_kind)
        for n, c in self.namespaces.items():
            self.resolve(c.steps, f"ladder.namespaces.{n}.steps", primary_kind, keyword_kind)
        self.resolve(list(self.policies), "ladder.policies", primary_kind, keyword_kind)

    def policy_for(self, name: str, kind: str, primary_kind: str, keyword_kind: str | None) -> StepPolicy:
        if kind in IN_PROCESS_KINDS:
            base = StepPolicy.in_process()
        else:
            base = StepPolicy(retries=0) if kind in SELF_RETRYING_KINDS else StepPolicy()
        base = self.policy.apply(base)
        alias, _ = self._kinds(primary_kind, keyword_kind)
        for key, override in self.policies.items():
            if alias.get(key) == name:
                base = override.apply(base)
        return base

    def build(
        self,
        *,
        primary: VectorFactory,
        primary_kind: str,
        keyword: KeywordBackend | None,
        keyword_kind: str | None,
        root: Path | None,
        clock: Clock | None = None,
    ) -> Ladder:
        """Open the extra stores and the cache and assemble the :class:`~vectorrouter.ladder.Ladder`."""
        from vectorrouter.backends import make_keyword_backend, make_vector_factory
        from vectorrouter.ladder.cache_step import CacheStep
        from vectorrouter.ladder.step import KeywordStep, VectorStep
        from vectorrouter.ladder.walk import Ladder
        from vectorrouter.policies.clock import SYSTEM_CLOCK

        clk = clock or SYSTEM_CLOCK
        pk, kk = primary_kind, keyword_kind if keyword is not None else None
        names = self.builtin_names(pk, kk)
        steps: list[Any] = [
            VectorStep(
                names["primary"], primary, policy=self.policy_for(names["primary"], pk, pk, kk), clock=clk
            )
        ]
        if keyword is not None:
            kw_policy = self.policy_for(names["keyword"], kk or "", pk, kk)
            steps.append(KeywordStep(names["keyword"], keyword, policy=kw_policy, clock=clk))
        for name, store in self.stores.items():
            policy = self.policy_for(name, store.kind, pk, kk)
            sub = root / "stores" / name if root is not None else None
            if store.role == "vector":
                factory = make_vector_factory(store.kind, sub, store.options)
                steps.append(VectorStep(name, factory, policy=policy, clock=clk))
            else:
                backend = make_keyword_backend(store.kind, sub, store.options)
                steps.append(KeywordStep(name, backend, policy=policy, clock=clk))
        if self.cache is not None:
            from vectorrouter.cache.redis_cache import ResultCache
            from vectorrouter.ladder.cache_step import CACHE_POLICY

            c = self.cache
            cache = ResultCache.from_url(
                c.resolved_url(),
                socket_timeout=c.socket_timeout_ms / 1000.0,
                prefix=c.prefix,
                hot_ttl=c.hot_ttl_s,
                popular_ttl=c.popular_ttl_s,
                popular_after=c.popular_after,
                popularity_window=c.popularity_window_s,
                stale_ttl=c.stale_ttl_s,
            )
            policy = CACHE_POLICY
            for key, override in self.policies.items():
                if key == "cache":
                    policy = override.apply(policy)
            steps.append(CacheStep("cache", cache, policy=policy, clock=clk))
        return Ladder(
            steps,
            order=self.default_steps(pk, kk),
            namespaces={
                n: self.resolve(c.steps, f"ladder.namespaces.{n}.steps", pk, kk)
                for n, c in self.namespaces.items()
            },
        )
