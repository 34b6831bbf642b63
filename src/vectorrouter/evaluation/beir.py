"""Load a BEIR-format retrieval dataset: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

Only each query's ``text`` is ever read. BEIR query files may carry ``metadata`` holding the gold evidence
(SciFact does: the relevant document ids and sentences), so the loader drops it while parsing and
:class:`BeirQuery` has no field that could hold it: nothing downstream can index or read it by accident.

Qrels files from BEIR use CRLF line endings; ``\\r`` is stripped. The header row is optional: the first line
is taken for it only when its score column is not a number (BEIR's reads ``query-id  corpus-id  score``), so a
first judgement with a malformed score is reported, not skipped. Every score must be an integer, and at least one
must be positive: a split with nothing relevant cannot be scored. A judged query with blank text is refused when
loading, naming the line, rather than when the search for it fails.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectorrouter.errors import ConfigurationError

__all__ = ["BeirDataset", "BeirDocument", "BeirQuery", "DatasetError", "load_beir"]


class DatasetError(ConfigurationError):
    """A dataset file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class BeirDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class BeirQuery:
    """A test query: its id and text, nothing else (query metadata is never loaded)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class BeirDataset:
    """A corpus, the queries of one split and their relevance judgements (``qrels[query_id][doc_id]``).

    >>> ds = BeirDataset("tiny", {"d1": BeirDocument("d1", "", "x")}, {"q1": BeirQuery("q1", "x")},
    ...                  {"q1": {"d1": 1}})
    >>> len(ds.corpus), [q.id for q in ds.queries.values()]
    (1, ['q1'])
    """

    name: str
    corpus: dict[str, BeirDocument]
    queries: dict[str, BeirQuery]
    qrels: dict[str, dict[str, int]]
    split: str = "test"
    path: Path | None = field(default=None, compare=False)

    def judged_queries(self) -> list[BeirQuery]:
        """Queries with at least one relevant (score > 0) document, in qrels order: the ones evaluated."""
        return [self.queries[q] for q in _judged(self.qrels)]

    def digest(self) -> str:
        """A fingerprint of the corpus (every id, title and text; not their order): equal digests, equal corpora.

        The evaluation stamps it on the documents it ingests, so that a namespace is scored without ingesting
        again only when it holds exactly these documents (not merely as many).
        """
        h = hashlib.sha256()
        for doc_id in sorted(self.corpus):
            doc = self.corpus[doc_id]
            h.update(
                json.dumps([doc.id, doc.title, doc.text], ensure_ascii=False).encode("utf-8", "surrogatepass")
            )
            h.update(b"\n")
        return h.hexdigest()[:32]


def _judged(qrels: dict[str, dict[str, int]]) -> list[str]:
    return [q for q, rels in qrels.items() if any(s > 0 for s in rels.values())]


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DatasetError(f"{path} does not exist", fix="point at a BEIR folder holding corpus.jsonl")
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number} is not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("_id"), str | int):
                raise DatasetError(f"{path}:{number} has no '_id'")
            yield number, row


def _text(path: Path, number: int, row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DatasetError(f"{path}:{number}: '{key}' must be a string, got {type(value).__name__}")
    return value


def _load_corpus(path: Path) -> dict[str, BeirDocument]:
    corpus: dict[str, BeirDocument] = {}
    for number, row in _jsonl(path):
        doc_id = str(row["_id"])
        if doc_id in corpus:
            raise DatasetError(f"{path}:{number}: document id {doc_id!r} appears twice")
        corpus[doc_id] = BeirDocument(
            doc_id, _text(path, number, row, "title"), _text(path, number, row, "text")
        )
    return corpus


def _load_queries(path: Path, wanted: set[str], judged: set[str], qrels_name: str) -> dict[str, BeirQuery]:
    queries: dict[str, BeirQuery] = {}
    for number, row in _jsonl(path):
        query_id = str(row["_id"])
        if query_id in wanted:
            # only `text` is read; `metadata` may hold the gold evidence and is dropped here
            text = _text(path, number, row, "text")
            if query_id in judged and not text.strip():
                raise DatasetError(
                    f"{path}:{number}: query {query_id!r} has blank text ({text!r}), and {qrels_name} judges "
                    "a document relevant to it, so it would be searched",
                    fix=f"give the query its text, or remove its lines from {qrels_name}",
                )
            queries[query_id] = BeirQuery(query_id, text)
    return queries


_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _load_qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DatasetError(
            f"{path} does not exist", fix="BEIR folders hold qrels/<split>.tsv, e.g. qrels/test.tsv"
        )
    qrels: dict[str, dict[str, int]] = {}
    first = True
    with path.open(encoding="utf-8", newline="") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n").replace("\r", "")
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) != 3:
                raise DatasetError(
                    f"{path}:{number} has {len(cols)} columns; expected query-id, corpus-id, score"
                )
            query_id, doc_id, score = (c.strip() for c in cols)
            header, first = first and not _NUMBER.fullmatch(score), False
            if header:
                continue  # the header row (``query-id  corpus-id  score``): its score column is not a number
            if not _INTEGER.fullmatch(score):
                raise DatasetError(f"{path}:{number}: score {score!r} is not an integer")
            qrels.setdefault(query_id, {})[doc_id] = int(score)
    if not _judged(qrels):
        judgements = sum(len(rels) for rels in qrels.values())
        raise DatasetError(
            f"{path}: no query has a relevant document (a score above 0); "
            + (
                f"all {judgements} judgements score 0 or less"
                if judgements
                else "the file holds no judgements"
            ),
            fix="point at the qrels of a split that judges documents relevant (--split)",
        )
    return qrels


def load_beir(path: str | Path, *, split: str = "test", name: str | None = None) -> BeirDataset:
    """Read a BEIR folder. Every qrels query must exist in ``queries.jsonl`` and every judged document in
    ``corpus.jsonl``, or :class:`DatasetError` names the first one missing."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(
            f"{root} is not a folder",
            fix="point at a BEIR folder holding corpus.jsonl, queries.jsonl and qrels/<split>.tsv",
        )
    qrels = _load_qrels(root / "qrels" / f"{split}.tsv")
    corpus = _load_corpus(root / "corpus.jsonl")
    queries = _load_queries(root / "queries.jsonl", set(qrels), set(_judged(qrels)), f"qrels/{split}.tsv")
    for query_id, rels in qrels.items():
        if query_id not in queries:
            raise DatasetError(f"qrels/{split}.tsv judges query {query_id!r}, which queries.jsonl lacks")
        for doc_id in rels:
            if doc_id not in corpus:
                raise DatasetError(f"qrels/{split}.tsv judges document {doc_id!r}, which corpus.jsonl lacks")
    return BeirDataset(
        name=name or root.resolve().name.lower(),
        corpus=corpus,
        queries=queries,
        qrels=qrels,
        split=split,
        path=root,
    )
