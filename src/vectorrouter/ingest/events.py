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
    #: Set only on a placeholder for a queue entry that is not a valid event (see :meth:`malformed`): the
    #: entry's raw fields as JSON, kept verbatim so the dead-letter queue loses nothing of it.
    raw: str = ""

    def retried(self, error: str, delay: float) -> IngestEvent:
        return replace(
            self, attempts=self.attempts + 1, last_error=error[:500], not_before=time.time() + delay
        )

    def failed(self, error: str) -> IngestEvent:
        return replace(self, attempts=self.attempts + 1, last_error=error[:500])

    @classmethod
    def malformed(cls, raw: str, reason: str, *, event_id: str, enqueued_at: float) -> IngestEvent:
        """A placeholder for a queue entry that cannot be read as an event, so it can be dead-lettered, listed
        and erased like one. It holds no records (a worker has nothing to apply) and is never replayed.

        The namespace is the entry's own when it names one, for the operator's benefit.
        """
        namespace = ""
        try:
            data = json.loads(json.loads(raw).get("event", ""))
            if isinstance(data, dict) and isinstance(data.get("namespace"), str):
                namespace = data["namespace"]
        except (ValueError, TypeError, AttributeError):
            pass
        return cls(
            namespace=namespace,
            event_id=event_id,
            enqueued_at=enqueued_at,
            last_error=f"MalformedEvent: {reason}"[:500],
            raw=raw,
        )

    @property
    def is_malformed(self) -> bool:
        return bool(self.raw)

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
        if self.raw:
            data["raw"] = self.raw
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> IngestEvent:
        """Parse :meth:`to_json`'s output; anything else raises ``ValueError`` saying what is wrong.

        The shape is checked, not just the keys: an event with an unknown ``op`` must never be applied as
        something else (a worker treats every non-upsert as a delete).
        """
        try:
            d = json.loads(text)
        except ValueError as exc:  # also a UnicodeDecodeError
            raise ValueError(f"not JSON ({exc})") from exc
        try:
            if not isinstance(d, dict):
                raise ValueError(f"expected a JSON object, got {type(d).__name__}")
            missing = [k for k in _KEYS if k not in d]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            if d["op"] not in ("upsert", "delete"):
                raise ValueError(f"op must be 'upsert' or 'delete', got {d['op']!r}")
            for key, types in _TYPES.items():
                if not isinstance(d[key], types) or isinstance(d[key], bool):
                    raise ValueError(f"{key} must be {types[0].__name__}, got {type(d[key]).__name__}")
            if not all(isinstance(i, str) for i in d["ids"]):
                raise ValueError("ids must be strings")
            if not isinstance(d.get("raw", ""), str):
                raise ValueError(f"raw must be str, got {type(d['raw']).__name__}")
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
                enqueued_at=float(d["enqueued_at"]),
                not_before=float(d["not_before"]),
                last_error=d["last_error"],
                raw=d.get("raw", ""),
            )
        except ValueError:
            raise
        except Exception as exc:  # KeyError, TypeError, InvalidRecord in a record: all mean "not an event"
            raise ValueError(f"not a valid event: {type(exc).__name__}: {exc}") from exc


_KEYS = (
    "event_id",
    "namespace",
    "op",
    "records",
    "ids",
    "attempts",
    "enqueued_at",
    "not_before",
    "last_error",
)
_TYPES: dict[str, tuple[type, ...]] = {
    "event_id": (str,),
    "namespace": (str,),
    "records": (list,),
    "ids": (list,),
    "attempts": (int,),
    "enqueued_at": (float, int),
    "not_before": (float, int),
    "last_error": (str,),
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event handed to one consumer; ``receipt`` identifies it for ack/retry/dead-letter."""

    event: IngestEvent
    receipt: str
