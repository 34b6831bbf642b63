"""Routers for the LlamaIndex integration's tests: in memory, exact numpy vectors, tantivy BM25, test embedders."""

from collections.abc import Callable, Iterator

import pytest
from vectorrouter import TEST_MODEL, ModelSpec, Router

MakeRouter = Callable[..., Router]


@pytest.fixture
def make_router() -> Iterator[MakeRouter]:
    """Build in-memory routers (default model: the 64-d hashing test embedder); all closed after the test."""
    made: list[Router] = []

    def make(model: ModelSpec = TEST_MODEL) -> Router:
        made.append(Router.embedded(None, model=model, vector_kind="numpy"))
        return made[-1]

    yield make
    for router in made:
        router.close()


@pytest.fixture
def router(make_router: MakeRouter) -> Router:
    return make_router()
