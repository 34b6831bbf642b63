"""The compliance-hook slot on the ingest path: an ordered list of callables over records.

Each hook receives the batch of records about to be written and returns the records to write instead
(redacted, filtered, re-keyed…). Raising stops the ingest before anything is written.

When a hook replaces record ids (keyed identifiers), the router's :class:`IdCodec` seam maps them back:
callers pass and receive their own ids, the stores only ever see the stored form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vectorrouter.embeddings.base import ModelSpec
from vectorrouter.filters import Filter
from vectorrouter.types import Namespace, Record

__all__ = ["PLAIN_IDS", "IdCodec", "IngestContext", "IngestHook", "PlainIds", "run_hooks"]


@dataclass(frozen=True, slots=True)
class IngestContext:
    """What a hook may know about the write it inspects."""

    namespace: Namespace
    model: ModelSpec


class IngestHook(Protocol):
    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]: ...


def run_hooks(hooks: Sequence[IngestHook], records: list[Record], ctx: IngestContext) -> list[Record]:
    """Apply ``hooks`` in order; each sees the previous one's output."""
    for hook in hooks:
        out = hook(records, ctx)
        if not isinstance(out, list):
            raise TypeError(f"ingest hook {hook!r} must return a list of records, got {type(out).__name__}")
        records = out
    return records


class IdCodec(Protocol):
    """Translates between the ids (and id-bearing filters) callers use and the ones the stores hold."""

    def to_stored(self, namespace: Namespace, ids: Sequence[str]) -> list[str]: ...

    def to_caller(self, namespace: Namespace, ids: Sequence[str]) -> list[str]: ...

    def stored_filter(self, namespace: Namespace, filter: Filter | None) -> Filter | None: ...


class PlainIds:
    """The default codec: stores hold the caller's ids as they are."""

    def to_stored(self, namespace: Namespace, ids: Sequence[str]) -> list[str]:
        return list(ids)

    def to_caller(self, namespace: Namespace, ids: Sequence[str]) -> list[str]:
        return list(ids)

    def stored_filter(self, namespace: Namespace, filter: Filter | None) -> Filter | None:
        return filter


PLAIN_IDS = PlainIds()
