"""The point layout both Qdrant backends share, so data written by one reads the same through the other.

One physical index (Edge shard or collection) holds many namespaces. Each point carries:

- ``_vr_ns``: the namespace (a keyword payload index marked ``is_tenant``), ANDed into every call;
- ``_vr_id``: the record id; ``_vr_text``: the text;
- the user's flat metadata at the top level (keys starting with ``_vr_`` are refused by ``Record``).

The point id is a UUID derived from (namespace, record id) with SHA-256, so the same record always lands
on the same point, in any process (never Python's salted ``hash()``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from vectorrouter.errors import InvalidRecord
from vectorrouter.types import RESERVED_PREFIX, Hit, MetaValue, Record

__all__ = [
    "ID_KEY",
    "NS_KEY",
    "TEXT_KEY",
    "hit_from_payload",
    "hits_from_owned_payloads",
    "payload_for",
    "point_id",
    "record_from_payload",
    "vector_rows",
]

NS_KEY = f"{RESERVED_PREFIX}ns"
ID_KEY = f"{RESERVED_PREFIX}id"
TEXT_KEY = f"{RESERVED_PREFIX}text"

_I64 = 2**63


def point_id(namespace: str, record_id: str) -> str:
    """The deterministic point UUID of ``record_id`` inside ``namespace``."""
    digest = hashlib.sha256(f"{namespace}\x1f{record_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def _check_int(record_id: str, key: str, value: Any) -> None:
    ints = value if isinstance(value, list) else [value]
    for v in ints:
        if isinstance(v, int) and not isinstance(v, bool) and not -_I64 <= v < _I64:
            raise InvalidRecord(
                f"record {record_id!r}: metadata[{key!r}] holds the integer {v}, outside the 64-bit range "
                "Qdrant stores exactly; store it as a string"
            )


def payload_for(namespace: str, record: Record) -> dict[str, Any]:
    """The stored payload of ``record``: its metadata plus our reserved keys."""
    payload: dict[str, Any] = {}
    for key, value in record.metadata.items():
        _check_int(record.id, key, value)
        payload[key] = value
    payload[NS_KEY] = namespace
    payload[ID_KEY] = record.id
    payload[TEXT_KEY] = record.text
    return payload


def vector_rows(records: Sequence[Record], *, backend: str) -> list[list[float]]:
    """The records' vectors as float lists, refusing NaN and infinity before anything is written."""
    matrix = np.asarray([r.vector for r in records], dtype=np.float32)
    if not np.isfinite(matrix).all():
        bad = next(r.id for r, row in zip(records, matrix, strict=True) if not np.isfinite(row).all())
        raise InvalidRecord(
            f"record {bad!r} has a NaN or infinite vector component; {backend} cannot rank it"
        )
    return matrix.tolist()  # type: ignore[no-any-return]


def _split(payload: Mapping[str, Any]) -> tuple[str, str, dict[str, MetaValue]]:
    """(record id, text, user metadata) of a stored payload. Popping our three keys from a copy is several
    times cheaper than filtering every key by prefix, and this runs for every hit of every search."""
    metadata = dict(payload)
    record_id = metadata.pop(ID_KEY)
    text = metadata.pop(TEXT_KEY, "")
    metadata.pop(NS_KEY, None)
    return record_id, text, metadata


def record_from_payload(payload: Mapping[str, Any], vector: Sequence[float] | None = None) -> Record:
    record_id, text, metadata = _split(payload)
    return Record(
        id=record_id, text=text, metadata=metadata, vector=list(vector) if vector is not None else None
    )


def hit_from_payload(payload: Mapping[str, Any], score: float) -> Hit:
    record_id, text, metadata = _split(payload)
    return Hit(record_id, score, text, metadata)


def hits_from_owned_payloads(points: Iterable[Any]) -> list[Hit]:
    """:func:`hit_from_payload` over scored points whose payload dicts nobody else holds (Qdrant Edge builds a
    new one on every access): our keys are popped in place and the rest becomes the metadata, with no copy.
    :func:`_split`'s three pops, inlined: this loop runs for every hit of every embedded search."""
    out = []
    for p in points:
        payload = p.payload
        record_id = payload.pop(ID_KEY)
        text = payload.pop(TEXT_KEY, "")
        payload.pop(NS_KEY, None)
        out.append(Hit(record_id, p.score, text, payload))
    return out
