"""The plan runner integrations share: one plan, two faces, and an empty namespace that reads as empty."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

import vectorrouter.plans as plans
from vectorrouter import Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.embeddings import EmbeddingService, ModelSpec
from vectorrouter.errors import DimensionMismatch
from vectorrouter.plans import Count, Delete, EmbedQuery, Get, Ingest, Runner, Scroll, Search
from vectorrouter.types import Record

MODEL = ModelSpec(version="h8", provider="hash", dimensions=8)
NS = "acme:docs"


@pytest.fixture
def router() -> Router:
    return Router(embeddings=EmbeddingService([MODEL]), vector_factory=NumpyBackend, default_model="h8")


def plan() -> Any:
    nothing = yield Search(NS, "x", None, 3, "dense", None)
    none_got = yield Get(NS, ["a"])
    none_counted = yield Count(NS, None)
    empty = (nothing, none_got, none_counted)
    yield Ingest(NS, [Record(id="a", text="alpha beta"), Record(id="b", text="gamma delta")])
    vec = yield EmbedQuery(NS, "alpha beta")
    found = yield Search(NS, None, vec, 1, "dense", None)
    scrolled = yield Scroll(NS, None)
    deleted = yield Delete(NS, ["b"])
    left = yield Count(NS, None)
    return empty, [h.id for h in found.hits], sorted(r.id for r in scrolled), deleted, left


EXPECTED = ((None, [], 0), ["a"], ["a", "b"], 1, 1)


def test_sync_and_async_faces_run_the_same_plan_to_the_same_answer(router: Router) -> None:
    assert Runner(router).run(plan()) == EXPECTED


async def test_async_face(router: Router) -> None:
    assert await Runner(router).arun(plan()) == EXPECTED


def test_a_wrong_width_vector_is_refused_even_on_an_unwritten_namespace(router: Router) -> None:
    def bad() -> Any:
        yield Search(NS, None, [0.0] * 5, 3, "dense", None)

    with pytest.raises(DimensionMismatch, match="8"):
        Runner(router).run(bad())


def test_an_unknown_operation_is_refused_by_name(router: Router) -> None:
    def odd() -> Any:
        yield object()

    with pytest.raises(TypeError, match="cannot perform object"):
        Runner(router).run(odd())


def test_module_example_runs() -> None:
    assert doctest.testmod(plans).failed == 0
