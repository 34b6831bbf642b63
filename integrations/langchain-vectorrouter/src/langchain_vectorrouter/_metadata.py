"""How a LangChain document's metadata is stored in the router, and read back exactly as given.

The core stores flat metadata only: under a non-empty key that does not start with the reserved prefix, a str,
int, float, bool, ``None`` or a list of str/int/float. LangChain metadata can be any JSON-like value, so:

- every top-level key whose value the core stores as it is, is stored as it is: filters see it;
- every other key (nested dicts, lists holding dicts, bools, ``None`` or lists, integers beyond 64 bits,
  non-finite floats, keys the core rejects, and keys named :data:`BLOB_KEY` or :data:`KEYS_KEY` themselves)
  goes into one JSON object stored as a string under :data:`BLOB_KEY`, and its name into the flat list
  :data:`KEYS_KEY`, so that ``$exists`` can still see it (see ``_filters``);
- reading drops both and merges the object back, so the caller sees the original dict.

Limits, by design: values inside the JSON object are not filterable (filter on flat keys; a value filter
treats a document whose value is encoded as not holding the key); tuples come back as lists and dict keys
must be strings (JSON has nothing else); values JSON cannot hold (datetimes, sets, bytes…) are refused with the
key named, never stringified behind the caller's back.

>>> stored = encode({"source": "a.pdf", "author": {"name": "Ada"}, "tags": ["x", True]})
>>> sorted(stored)
['_lc_json', '_lc_json_keys', 'source']
>>> stored["_lc_json_keys"]
['author', 'tags']
>>> decode(stored) == {"source": "a.pdf", "author": {"name": "Ada"}, "tags": ["x", True]}
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from vectorrouter.errors import InvalidRecord
from vectorrouter.types import RESERVED_PREFIX, MetaValue

__all__ = ["BLOB_KEY", "ENCODING_KEYS", "KEYS_KEY", "decode", "encode"]

#: The metadata key holding, as a JSON object, every value the core cannot store flat.
BLOB_KEY = "_lc_json"
#: The metadata key listing the names of the keys held in :data:`BLOB_KEY` (written with it, never alone).
KEYS_KEY = "_lc_json_keys"
#: This package's own stored keys: never a caller's key as stored, so filters on them are refused.
ENCODING_KEYS = (BLOB_KEY, KEYS_KEY)
_INT64 = (-(2**63), 2**63 - 1)


def _flat_scalar(value: Any, *, in_list: bool) -> bool:
    if value is None or isinstance(value, bool):
        return not in_list  # the core keeps bools and None apart from numbers only outside lists
    if isinstance(value, str):
        return True
    if type(value) is int:
        return _INT64[0] <= value <= _INT64[1]
    if type(value) is float:
        return math.isfinite(value)
    return False


def storable(key: Any, value: Any) -> bool:
    """True when the core stores ``key: value`` flat and gives it back unchanged."""
    if not isinstance(key, str) or not key or key.startswith(RESERVED_PREFIX) or key in ENCODING_KEYS:
        return False
    if type(value) is list:
        return all(_flat_scalar(v, in_list=True) for v in value)
    return _flat_scalar(value, in_list=False)


def _check_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for k, item in value.items():
            if not isinstance(k, str):
                raise InvalidRecord(f"{where}: key {k!r} must be a string (metadata is stored as JSON)")
            _check_json(item, f"{where}[{k!r}]")
        return
    raise InvalidRecord(
        f"{where} has type {type(value).__name__}, which cannot be stored; "
        "convert it to a string, number, bool, list or dict first"
    )


def encode(metadata: Mapping[str, Any] | None) -> dict[str, MetaValue]:
    """The flat dict the core stores for ``metadata`` (see the module docstring for the encoding)."""
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidRecord(f"metadata must be a dict, got {type(metadata).__name__}")
    flat: dict[str, MetaValue] = {}
    extra: dict[str, Any] = {}
    for key, value in metadata.items():
        if storable(key, value):
            flat[key] = list(value) if isinstance(value, list) else value
        else:
            if not isinstance(key, str):
                raise InvalidRecord(f"metadata key {key!r} must be a string")
            _check_json(value, f"metadata[{key!r}]")
            extra[key] = value
    if extra:
        flat[BLOB_KEY] = json.dumps(extra, ensure_ascii=False, separators=(",", ":"))
        flat[KEYS_KEY] = list(extra)
    return flat


def decode(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's metadata back from what the core stored (records written by others pass through)."""
    if BLOB_KEY not in stored and not any(type(v) is list for v in stored.values()):
        return dict(stored)  # the common case: flat scalars, nothing to merge or copy deeper
    out: dict[str, Any] = {}
    blob: Any = None
    for key, value in stored.items():
        if key == BLOB_KEY:
            blob = value
        elif key == KEYS_KEY and BLOB_KEY in stored:
            continue
        else:  # lists are copied so a caller mutating a result cannot reach into an in-memory store
            out[key] = list(value) if isinstance(value, list) else value
    if blob is not None:
        try:
            extra = json.loads(blob) if isinstance(blob, str) else None
        except ValueError:
            extra = None
        if not isinstance(extra, dict):
            raise InvalidRecord(
                f"metadata[{BLOB_KEY!r}] is not a JSON object; it was not written by this package"
            )
        out.update(extra)
    return out
