"""A router over scripted stores on a fake clock: primary and secondary vector stores and a keyword store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tests.doubles.memory_keyword import MemoryKeyword

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.ladder import KeywordStep, Ladder, Step, StepPolicy, VectorStep
from vectorrouter.policies import FakeClock
from vectorrouter.testing.scripted import Script

MODEL = ModelSpec(version="hash-64", provider="hash", dimensions=64)
NS = "acme:docs"
DOCS = [
    Record(
        id="quasar", text="a quasar is a luminous galactic nucleus", metadata={"kind": "space", "year": 2021}
    ),
    Record(
        id="apple", text="apples are red fruit growing on trees", metadata={"kind": "fruit", "year": 2020}
    ),
    Record(
        id="carrot",
        text="carrots are orange roots eaten as vegetables",
        metadata={"kind": "veg", "year": 2022},
    ),
    Record(
        id="comet",
        text="a comet is an icy body with a glowing tail",
        metadata={"kind": "space", "year": 2023},
    ),
]
#: Small thresholds so tests open breakers in a couple of searches; the fake clock moves cooldowns.
POLICY = StepPolicy(timeout=None, retries=0, failure_threshold=2, recovery_timeout=10.0, write_attempts=1)


@dataclass
class Rig:
    router: Router
    clock: FakeClock
    primary: Script
    secondary: Script
    keyword: Script
    steps: dict[str, Step] = field(default_factory=dict)

    def search(self, query: str | None = "luminous galactic quasar", **kw: object):  # type: ignore[no-untyped-def]
        return self.router.search(NS, query, k=kw.pop("k", 2), **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self.router.close()


def make_rig(
    *,
    policy: StepPolicy = POLICY,
    order: Sequence[str] | None = None,
    namespaces: Mapping[str, Sequence[str]] | None = None,
    extra: Sequence[Step] = (),
    ingest: bool = True,
    clock: FakeClock | None = None,
) -> Rig:
    clock = clock or FakeClock()
    primary, secondary, keyword = Script(), Script(), Script()
    steps: list[Step] = [
        VectorStep("primary", primary.wrap_factory(NumpyBackend), policy=policy, clock=clock),
        VectorStep("secondary", secondary.wrap_factory(NumpyBackend), policy=policy, clock=clock),
        *extra,
        KeywordStep("keyword", keyword.wrap(MemoryKeyword()), policy=policy, clock=clock),
    ]
    ladder = Ladder(steps, order=order, namespaces=namespaces)
    router = Router(embeddings=EmbeddingService([MODEL]), ladder=ladder)
    if ingest:
        router.ingest(NS, DOCS)
    return Rig(router, clock, primary, secondary, keyword, {s.name: s for s in steps})
