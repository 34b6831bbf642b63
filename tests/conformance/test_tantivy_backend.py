import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vectorrouter.backends import make_keyword_backend
from vectorrouter.backends.tantivy_keyword import (
    Analysis,
    NamespacedTantivy,
    TantivyBackend,
    from_config,
    map_tantivy_error,
)
from vectorrouter.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    InvalidRecord,
    is_caller_error,
)
from vectorrouter.filters import Exists
from vectorrouter.testing import KeywordBackendConformance
from vectorrouter.types import Record


class TestTantivyInMemory(KeywordBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[TantivyBackend]:
        b = TantivyBackend()
        yield b
        b.close()


class TestTantivyPersistent(KeywordBackendConformance):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[TantivyBackend]:
        self.path = tmp_path / "keyword"
        b = make_keyword_backend("tantivy", self.path, {"isolation": "shared"})
        assert isinstance(b, TantivyBackend)
        yield b
        b.close()

    def reopen(self, backend: TantivyBackend) -> TantivyBackend:
        backend.close()
        return TantivyBackend(self.path)


class TestNamespacedTantivyInMemory(KeywordBackendConformance):
    @pytest.fixture
    def backend(self) -> Iterator[NamespacedTantivy]:
        b = NamespacedTantivy(max_writers=1)  # one writer: every other write reopens one
        yield b
        b.close()


class TestNamespacedTantivyPersistent(KeywordBackendConformance):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[NamespacedTantivy]:
        self.path = tmp_path / "keyword"
        b = make_keyword_backend("tantivy", self.path)  # the default for a new folder
        assert isinstance(b, NamespacedTantivy)
        yield b
        b.close()

    def reopen(self, backend: NamespacedTantivy) -> NamespacedTantivy:
        backend.close()
        return NamespacedTantivy(self.path)


class TestNamespacedTantivyOneOpenIndex(KeywordBackendConformance):
    """The whole kit with one open index: every switch of namespace closes one index and reopens another."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[NamespacedTantivy]:
        self.path = tmp_path / "keyword"
        b = make_keyword_backend("tantivy", self.path, {"max_open": 1, "max_writers": 1})
        assert isinstance(b, NamespacedTantivy)
        yield b
        b.close()

    def reopen(self, backend: NamespacedTantivy) -> NamespacedTantivy:
        backend.close()
        return NamespacedTantivy(self.path, max_open=1)


# -- behaviour beyond the shared contract ---------------------------------------------------------
NS = "acme:docs:v1"


@pytest.fixture
def kw() -> Iterator[TantivyBackend]:
    b = TantivyBackend()
    yield b
    b.close()


def _recs(*texts: str, **md: Any) -> list[Record]:
    return [Record(id=f"d{i}", text=t, metadata=md) for i, t in enumerate(texts)]


def test_query_syntax_is_searched_as_words(kw: TantivyBackend) -> None:
    kw.upsert(NS, _recs("the field value pairs", "unrelated text"))
    for query in ("field:value", '"field value', "(field) AND value", "+field -value"):
        assert [h.id for h in kw.search(NS, query, k=5)] == ["d0"], query


def test_stopword_only_query_returns_nothing(kw: TantivyBackend) -> None:
    kw.upsert(NS, _recs("the cat and the hat"))
    assert kw.search(NS, "the and of a", k=5) == []
    assert kw.search(NS, "!!! ... ???", k=5) == []


def test_a_word_repeated_in_the_query_weighs_more(kw: TantivyBackend) -> None:
    kw.upsert(NS, _recs("apple", "pear", "apple pear"))
    once = {h.id: h.score for h in kw.search(NS, "apple pear", k=3)}
    twice = {h.id: h.score for h in kw.search(NS, "apple apple pear", k=3)}
    assert twice["d0"] > once["d0"]
    assert twice["d1"] == pytest.approx(once["d1"])


def test_replaced_text_is_no_longer_found(kw: TantivyBackend) -> None:
    kw.upsert(NS, [Record(id="x", text="alpha")])
    kw.upsert(NS, [Record(id="x", text="beta")])
    assert kw.search(NS, "alpha", k=5) == []
    assert [h.id for h in kw.search(NS, "beta", k=5)] == ["x"]


def test_same_id_twice_in_one_batch_keeps_the_last(kw: TantivyBackend) -> None:
    kw.upsert(NS, [Record(id="x", text="first"), Record(id="x", text="second")])
    assert [r.text for r in kw.get(NS, ["x"])] == ["second"]
    assert kw.count(NS) == 1


def test_a_batch_with_one_bad_record_writes_nothing(kw: TantivyBackend) -> None:
    good = Record(id="ok", text="fine")
    with pytest.raises(InvalidRecord, match="'big'"):
        kw.upsert(NS, [good, Record(id="bad", text="x", metadata={"big": 2**70})])
    with pytest.raises(InvalidRecord, match="surrogate"):
        kw.upsert(NS, [good, Record(id="bad", text="broken \ud800 text")])
    assert kw.count(NS) == 0


def test_huge_k_returns_what_exists(kw: TantivyBackend) -> None:
    kw.upsert(NS, _recs("word one", "word two"))
    assert len(kw.search(NS, "word", k=10**12)) == 2
    assert kw.search(NS, "word", k=0) == []


def test_closed_backend_refuses_calls_as_unavailable() -> None:
    b = TantivyBackend()
    b.upsert(NS, _recs("word"))
    b.close()
    with pytest.raises(BackendUnavailable, match="closed"):
        b.search(NS, "word", k=1)
    with pytest.raises(BackendUnavailable, match="closed"):
        b.upsert(NS, _recs("word"))


def test_concurrent_searches_see_each_batch_whole_or_not_at_all(kw: TantivyBackend) -> None:
    batches, size = 25, 8
    done = threading.Event()
    problems: list[BaseException] = []
    seen_partial: list[tuple[int, int]] = []

    def write(offset: int) -> None:
        try:
            for b in range(offset, batches, 2):
                kw.upsert(NS, [Record(id=f"{b}-{j}", text=f"batch{b} shared") for j in range(size)])
        except BaseException as exc:
            problems.append(exc)

    def read() -> None:
        try:
            b = 0
            while not done.is_set():
                n = len(kw.search(NS, f"batch{b % batches}", k=50))
                if n not in (0, size):
                    seen_partial.append((b % batches, n))
                kw.count(NS, Exists("nothing"))
                b += 1
        except BaseException as exc:
            problems.append(exc)

    writers = [threading.Thread(target=write, args=(i,)) for i in (0, 1)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert problems == []
    assert seen_partial == []
    assert kw.count(NS) == batches * size


def test_a_second_writer_on_the_same_folder_is_unavailable_but_can_read(tmp_path: Path) -> None:
    first = TantivyBackend(tmp_path)
    first.upsert(NS, _recs("word"))
    second = TantivyBackend(tmp_path)
    try:
        assert second.count(NS) == 1
        with pytest.raises(BackendUnavailable, match="lock"):
            second.upsert(NS, _recs("other"))
    finally:
        second.close()
        first.close()


def test_reopening_with_another_analyzer_is_a_configuration_error(tmp_path: Path) -> None:
    TantivyBackend(tmp_path).close()
    with pytest.raises(ConfigurationError, match=r"keyword_store\.options.*different"):
        TantivyBackend(tmp_path, analysis=Analysis(stopwords=False))


def test_a_file_where_the_folder_should_be_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "kw").write_text("not an index")
    with pytest.raises(BackendUnavailable):
        TantivyBackend(tmp_path / "kw")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ValueError("Failed to acquire Lockfile: LockBusy."), BackendUnavailable),
        (ValueError("Schema error: 'An index exists but the schema does not match.'"), ConfigurationError),
        (RuntimeError("IndexWriter was consumed and no longer in a valid state"), BackendUnavailable),
        (OSError(28, "No space left on device"), BackendUnavailable),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), InvalidRecord),
        (ValueError("something else"), BackendError),
    ],
)
def test_tantivy_errors_map_into_our_tree(exc: Exception, expected: type[Exception]) -> None:
    mapped = map_tantivy_error(exc, path=Path("/data/kw"))
    assert type(mapped) is expected
    # only a wrong request or configuration stops the degradation ladder; engine failures fall through
    assert is_caller_error(mapped) == (expected in (ConfigurationError, InvalidRecord))


def test_our_own_errors_pass_through_the_mapping_unchanged() -> None:
    err = InvalidRecord("x")
    assert map_tantivy_error(err) is err


def test_options_configure_the_analyzer() -> None:
    plain = from_config(None, {"language": "none"})
    try:
        plain.upsert(NS, _recs("documents"))
        assert plain.search(NS, "document", k=5) == []
        assert [h.id for h in plain.search(NS, "DOCUMENTS", k=5)] == ["d0"]
    finally:
        plain.close()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"stemmer": "english"}, "keyword_store.options.stemmer"),
        ({"language": "klingon"}, "keyword_store.options.language"),
        ({"stopwords": "yes"}, "keyword_store.options.stopwords"),
        ({"writer_memory_mb": 1}, "keyword_store.options.writer_memory_mb"),
        ({"writer_threads": 0}, "keyword_store.options.writer_threads"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        from_config(None, options)


# -- one index per namespace ----------------------------------------------------------------------
def _scores(kw: Any, ns: str, query: str) -> dict[str, float]:
    return {h.id: h.score for h in kw.search(ns, query, k=10)}


def test_namespaced_bm25_scores_ignore_every_other_namespace(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw")
    mine = [Record(id="a", text="glaciers carve valleys"), Record(id="b", text="rivers carry silt to sea")]
    kw.upsert("a:docs:v1", mine)
    before = _scores(kw, "a:docs:v1", "glaciers rivers")
    kw.upsert(
        "b:docs:v1", [Record(id=f"x{i}", text="glaciers glaciers and more glaciers") for i in range(200)]
    )
    assert _scores(kw, "a:docs:v1", "glaciers rivers") == before  # another tenant's corpus changes nothing
    kw.close()
    # the shared index is what the option exists for: there the other tenant's documents move the scores
    shared = TantivyBackend()
    shared.upsert("a:docs:v1", mine)
    alone = _scores(shared, "a:docs:v1", "glaciers rivers")
    shared.upsert(
        "b:docs:v1", [Record(id=f"x{i}", text="glaciers glaciers and more glaciers") for i in range(200)]
    )
    assert _scores(shared, "a:docs:v1", "glaciers rivers") != alone
    shared.close()


def test_each_namespace_is_a_folder_named_in_it_and_reopens(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw")
    kw.upsert("acme:docs:v1", [Record(id="1", text="hello tenants")])
    kw.upsert("beta:docs:v1", [Record(id="1", text="hello again")])
    kw.close()
    folders = sorted((tmp_path / "kw").iterdir())
    assert len(folders) == 2
    assert sorted(f.joinpath("NAMESPACE").read_text().strip() for f in folders) == [
        "acme:docs:v1",
        "beta:docs:v1",
    ]
    again = NamespacedTantivy(tmp_path / "kw")
    assert [h.id for h in again.search("acme:docs:v1", "tenants", k=3)] == ["1"]
    assert again.count("gamma:docs:v1") == 0
    assert not (tmp_path / "kw").joinpath("gamma").exists()
    assert len(list((tmp_path / "kw").iterdir())) == 2  # reading a namespace never creates it
    again.close()


def test_only_max_writers_namespaces_keep_a_writer(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw", max_writers=2)
    for n in range(5):
        kw.upsert(f"t{n}:docs:v1", [Record(id="1", text=f"tenant {n} text")])
    holding = [ns for ns, shard in kw._shards.items() if shard._writer is not None]
    assert holding == ["t3:docs:v1", "t4:docs:v1"]
    kw.upsert("t0:docs:v1", [Record(id="2", text="written again after giving its writer up")])
    assert kw.count("t0:docs:v1") == 2
    assert [h.id for h in kw.search("t0:docs:v1", "giving", k=3)] == ["2"]
    kw.close()


def test_at_most_max_open_namespaces_stay_open_and_closed_ones_reopen_whole(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw", max_open=3)
    for n in range(10):
        kw.upsert(f"t{n}:docs:v1", [Record(id=str(i), text=f"tenant {n} document {i}") for i in range(3)])
        assert len(kw.open_namespaces()) <= 3
    assert kw.open_namespaces() == ["t7:docs:v1", "t8:docs:v1", "t9:docs:v1"]
    for n in range(10):  # every closed namespace reopens with all it held
        assert kw.count(f"t{n}:docs:v1") == 3
        assert {h.id for h in kw.search(f"t{n}:docs:v1", f"tenant {n}", k=5)} == {"0", "1", "2"}
    kw.search("t2:docs:v1", "tenant", k=1)  # a use makes it the most recent: t7 is closed before it
    kw.count("t3:docs:v1")
    assert kw.open_namespaces() == ["t9:docs:v1", "t2:docs:v1", "t3:docs:v1"]
    kw.close()


def test_an_unfinished_scroll_keeps_its_index_open(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw", max_open=1)
    kw.upsert("a:docs:v1", [Record(id=str(i), text=f"document {i}") for i in range(10)])
    batches = kw.scroll("a:docs:v1", batch_size=3)
    first = next(batches)
    for n in range(3):  # other namespaces come and go while the scroll waits: each is the idle one closed
        kw.upsert(f"t{n}:docs:v1", [Record(id="1", text="other tenant")])
        assert kw.open_namespaces() == ["a:docs:v1"]
    rest = [r for batch in batches for r in batch]
    assert sorted(r.id for r in first + rest) == sorted(str(i) for i in range(10))
    kw.count("t0:docs:v1")  # the finished scroll let go: the bound holds again
    assert kw.open_namespaces() == ["t0:docs:v1"]
    abandoned = kw.scroll("a:docs:v1", batch_size=3)
    next(abandoned)
    abandoned.close()  # a scroll dropped half way lets go too
    kw.count("t1:docs:v1")
    assert kw.open_namespaces() == ["t1:docs:v1"]
    kw.close()


def test_many_threads_over_more_namespaces_than_may_stay_open(tmp_path: Path) -> None:
    kw = NamespacedTantivy(tmp_path / "kw", max_open=2, max_writers=1)
    errors: list[BaseException] = []

    def tenant(n: int) -> None:
        try:
            ns = f"t{n}:docs:v1"
            for i in range(6):
                kw.upsert(ns, [Record(id=str(i), text=f"tenant {n} round {i}")])
                assert kw.count(ns) == i + 1
                assert kw.search(ns, f"round {i}", k=1)[0].id == str(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=tenant, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(kw.open_namespaces()) <= 2
    assert [kw.count(f"t{n}:docs:v1") for n in range(6)] == [6] * 6
    kw.close()


def test_in_memory_namespaces_are_never_closed(tmp_path: Path) -> None:
    kw = NamespacedTantivy(max_open=1)  # closing an in-memory index would lose it
    for n in range(4):
        kw.upsert(f"t{n}:docs:v1", [Record(id="1", text=f"tenant {n}")])
    assert len(kw.open_namespaces()) == 4
    assert [kw.count(f"t{n}:docs:v1") for n in range(4)] == [1, 1, 1, 1]
    kw.close()


def test_max_open_is_validated_by_field(tmp_path: Path) -> None:
    for bad in (0, "many", True):
        with pytest.raises(ConfigurationError) as err:
            from_config(tmp_path / "kw", {"max_open": bad})
        assert err.value.field == "keyword_store.options.max_open"


def test_a_shared_folder_is_kept_shared_and_never_silently_split(tmp_path: Path) -> None:
    folder = tmp_path / "kw"
    shared = TantivyBackend(folder)
    shared.upsert(NS, [Record(id="1", text="written by an older release")])
    shared.close()
    reopened = from_config(folder, {})  # no option: the folder's own layout wins
    assert isinstance(reopened, TantivyBackend)
    assert reopened.count(NS) == 1
    reopened.close()
    with pytest.raises(ConfigurationError, match="isolation") as err:
        from_config(folder, {"isolation": "namespace"})
    assert 'isolation = "shared"' in str(err.value)
    with pytest.raises(ConfigurationError, match="isolation"):
        from_config(tmp_path / "new", {"isolation": "per-tenant"})
