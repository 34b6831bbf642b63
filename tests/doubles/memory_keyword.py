"""A tiny in-memory keyword store for router and ladder tests (the real embedded engine is tantivy).

Scoring is plain term overlap weighted by rarity; enough to rank a document that shares rare words with the
query first. Filters use the reference semantics of :mod:`vectorrouter.filters`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

from vectorrouter.filters import Filter
from vectorrouter.types import Hit, Record

_WORD = re.compile(r"\w+")


def terms(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


class MemoryKeyword:
    name = "memkw"

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, Record]] = {}
        self.closed = 0

    def upsert(self, namespace: str, records: Sequence[Record]) -> None:
        part = self.parts.setdefault(namespace, {})
        for r in records:
            part[r.id] = Record(id=r.id, text=r.text, metadata=r.metadata)

    def _matching(self, namespace: str, filter: Filter | None) -> list[Record]:
        return [
            r for r in self.parts.get(namespace, {}).values() if filter is None or filter.matches(r.metadata)
        ]

    def search(self, namespace: str, query: str, k: int, filter: Filter | None = None) -> list[Hit]:
        q = terms(query)
        pool = self._matching(namespace, filter)
        if not q or not pool:
            return []
        df = {t: sum(t in terms(r.text) for r in pool) for t in q}
        scored = []
        for r in pool:
            shared = q & terms(r.text)
            if shared:
                scored.append((sum(math.log(1 + len(pool) / df[t]) for t in shared), r))
        scored.sort(key=lambda p: -p[0])
        return [Hit(id=r.id, score=s, text=r.text, metadata=r.metadata) for s, r in scored[:k]]

    def get(self, namespace: str, ids: Sequence[str], *, with_vectors: bool = False) -> list[Record]:
        part = self.parts.get(namespace, {})
        return [part[i] for i in ids if i in part]

    def delete(self, namespace: str, ids: Sequence[str]) -> int:
        part = self.parts.get(namespace, {})
        return sum(part.pop(i, None) is not None for i in ids)

    def delete_by_filter(self, namespace: str, filter: Filter | None) -> int:
        doomed = [r.id for r in self._matching(namespace, filter)]
        return self.delete(namespace, doomed)

    def count(self, namespace: str, filter: Filter | None = None) -> int:
        return len(self._matching(namespace, filter))

    def scroll(
        self,
        namespace: str,
        filter: Filter | None = None,
        *,
        batch_size: int = 256,
        with_vectors: bool = False,
    ) -> Iterator[list[Record]]:
        recs = self._matching(namespace, filter)
        for i in range(0, len(recs), batch_size):
            yield recs[i : i + batch_size]

    def close(self) -> None:
        self.closed += 1
