from pathlib import Path

import pytest

from vectorrouter.errors import InvalidNamespace, NamespaceNotFound
from vectorrouter.routing import Catalog, rrf
from vectorrouter.types import Hit, Namespace


def test_first_version_of_a_logical_namespace_becomes_active() -> None:
    c = Catalog()
    c.register(Namespace("acme", "docs", "v1"), index_name="i64", dimensions=64)
    c.register(Namespace("acme", "docs", "v2"), index_name="i32", dimensions=32)
    assert str(c.resolve("acme:docs")) == "acme:docs:v1"
    assert str(c.resolve("acme:docs:v2")) == "acme:docs:v2"
    c.set_active(Namespace("acme", "docs", "v2"))
    assert str(c.resolve("acme:docs")) == "acme:docs:v2"
    assert [i.active for i in c.list()] == [False, True]


def test_unknown_namespace_lists_known_ones() -> None:
    c = Catalog()
    c.register(Namespace("acme", "docs", "v1"), index_name="i", dimensions=8)
    with pytest.raises(NamespaceNotFound, match="acme:docs"):
        c.resolve("acme:faq")
    with pytest.raises(NamespaceNotFound):
        c.resolve("acme:docs:v9")


def test_a_version_cannot_change_width() -> None:
    c = Catalog()
    c.register(Namespace("acme", "docs", "v1"), index_name="i", dimensions=8)
    with pytest.raises(InvalidNamespace, match="8-d.*16-d"):
        c.register(Namespace("acme", "docs", "v1"), index_name="j", dimensions=16)


def test_catalog_persists_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    c = Catalog(path)
    c.register(Namespace("acme", "docs", "v1"), index_name="i", dimensions=8)
    c.register(Namespace("acme", "docs", "v2"), index_name="i", dimensions=8, activate=True)
    c.close()
    again = Catalog(path)
    assert str(again.resolve("acme:docs")) == "acme:docs:v2"
    assert len(again.list()) == 2
    again.drop(Namespace("acme", "docs", "v2"))
    again.close()
    third = Catalog(path)
    with pytest.raises(NamespaceNotFound):
        third.resolve("acme:docs")
    assert [str(i.namespace) for i in third.list()] == ["acme:docs:v1"]


def test_rrf_rewards_agreement_between_lists() -> None:
    dense = [Hit("a", 0.9), Hit("b", 0.8), Hit("c", 0.7)]
    sparse = [Hit("c", 20.0), Hit("b", 10.0), Hit("d", 5.0)]
    fused = rrf([dense, sparse], k=4)
    # c: ranks 3 and 1; b: ranks 2 and 2; a and d appear once
    assert [h.id for h in fused] == ["c", "b", "a", "d"]
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1].score == pytest.approx(2 / 62)
