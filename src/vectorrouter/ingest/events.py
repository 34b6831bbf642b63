"""Ingest events: what travels through the queue, serialised as JSON (never pickled)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vectorrouter.types import Record

__all__ = ["Delivery", "IngestEvent"]

Op = Literal["upsert", "delete"]


@dataclass(frozen=True, slots=True)
class IngestEvent:
    """One unit of ingest work for one versioned namespace.

    Records in an event have already passed the compliance hooks (see ``Router.prepare``), so whatever sits in
    a queue or dead-letter queue is what the stores would hold, never the raw input.
    """

    namespace: str
    op: Op = "upsert"
    records: tuple[Record, ...] = ()
    ids: tuple[str, ...] = ()
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempts: int = 0
    enqueued_at: float = field(default_factory=time.time)
    not_before: float = 0.0
    last_error: str = ""

    def retried(self, error: str, delay: float) -> IngestEvent:
        return replace(
            self, attempts=self.attempts + 1, last_error=error[:500], not_before=time.time() + delay
        )

    def failed(self, error: str) -> IngestEvent:
        return replace(self, attempts=self.attempts + 1, last_error=error[:500])

    @property
    def record_ids(self) -> list[str]:
        return [r.id for r in self.records] if self.op == "upsert" else list(self.ids)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "event_id": self.event_id,
            "namespace": self.namespace,
            "op": self.op,
            "records": [
                {
                    "id": r.id,
                    "text": r.text,
                    "metadata": dict(r.metadata),
                    "vector": list(map(float, r.vector)) if r.vector is not None else None,
                }
                for r in self.records
            ],
            "ids": list(self.ids),
            "attempts": self.attempts,
            "enqueued_at": self.enqueued_at,
            "not_before": self.not_before,
            "last_error": self.last_error,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> IngestEvent:
        d = json.loads(text)
        return cls(
            namespace=d["namespace"],
            op=d["op"],
            records=tuple(
                Record(id=r["id"], text=r["text"], metadata=r["metadata"], vector=r["vector"])
                for r in d["records"]
            ),
            ids=tuple(d["ids"]),
            event_id=d["event_id"],
            attempts=d["attempts"],
            enqueued_at=d["enqueued_at"],
            not_before=d["not_before"],
            last_error=d["last_error"],
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event handed to one consumer; ``receipt`` identifies it for ack/retry/dead-letter."""

    event: IngestEvent
    receipt: str
