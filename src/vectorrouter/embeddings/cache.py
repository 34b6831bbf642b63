"""The layered embedding cache: L1 in-process LRU → L2 Redis → L3 persistent store (SQLite or PostgreSQL).

Keys are SHA-256 digests of the model fingerprint (version, provider, model, width, task prefix and input
type), the task type and the *normalized* text, so a model change can never be answered with a stale vector
and the same key is found from any process (never Python's salted ``hash()``). Normalization is Unicode NFC,
outer whitespace stripped and inner runs of whitespace collapsed to one space; the normalized text is also
what gets embedded, so a cached vector equals a fresh one.

A hit at a lower layer fills the layers above it. A layer that fails (Redis down, PostgreSQL restarting) is
skipped and logged, never fatal: :class:`GuardedLayer` puts a circuit breaker in front of it so a dead server
costs one failed call per cooldown, not one per lookup.

For right-to-erasure, :meth:`LayeredCache.forget` deletes the entries of given texts from every layer and
:meth:`LayeredCache.residue` reports what is left.

>>> cache = LayeredCache([MemoryLayer(100)])
>>> k = cache_key("v1|hash|m|4|query||", "query", "Hello  world")
>>> cache.put_many([(k, np.ones(4, dtype=np.float32))])
>>> cache.get_many([k])[k.key].tolist()
[1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from vectorrouter.errors import BackendError, CircuitOpen
from vectorrouter.policies import SYSTEM_CLOCK, CircuitBreaker, Clock

__all__ = [
    "CacheKey",
    "CacheLayer",
    "GuardedLayer",
    "LayeredCache",
    "MemoryLayer",
    "Residue",
    "TextIndexedLayer",
    "cache_key",
    "decode_vector",
    "encode_vector",
    "normalize_text",
    "text_digest",
]

log = logging.getLogger("vectorrouter.embeddings.cache")
T = TypeVar("T")

_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFC, stripped, inner whitespace collapsed: the form that is keyed *and* embedded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def text_digest(normalized: str) -> str:
    """Digest of a normalized text alone (no model): finds every version's entry for an erasure."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheKey:
    """Where one (model fingerprint, task, text) vector lives; ``key`` is the stored key."""

    key: str
    text_hash: str
    version: str
    task: str


def cache_key(fingerprint: str, task: str, text: str, *, normalized: bool = False) -> CacheKey:
    norm = text if normalized else normalize_text(text)
    digest = hashlib.sha256()
    for part in ("vr-embedding-v1", fingerprint, task, norm):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return CacheKey(digest.hexdigest(), text_digest(norm), fingerprint.split("|", 1)[0], task)


def encode_vector(vec: np.ndarray) -> bytes:
    """Little-endian float32 bytes: exact round trip, 4 bytes per dimension."""
    return np.asarray(vec, dtype="<f4").tobytes()


def decode_vector(data: bytes) -> np.ndarray:
    arr = np.frombuffer(data, dtype="<f4").astype(np.float32)
    arr.flags.writeable = False
    return arr


@runtime_checkable
class CacheLayer(Protocol):
    """One cache layer. Every method takes keys as :class:`CacheKey` and never raises for a miss."""

    name: str

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        """Vectors found, by ``CacheKey.key``."""

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None: ...

    def delete(self, keys: Sequence[CacheKey]) -> int:
        """Remove these entries; returns how many existed."""

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        """Which of these entries exist (their ``CacheKey.key``), without reading the vectors."""

    def close(self) -> None: ...


@runtime_checkable
class TextIndexedLayer(CacheLayer, Protocol):
    """A layer that also finds entries by text digest, so an erasure reaches every model version's entry
    (even versions no longer declared)."""

    def delete_texts(self, text_hashes: Sequence[str]) -> int: ...

    def count_texts(self, text_hashes: Sequence[str]) -> int: ...


class MemoryLayer:
    """L1: a thread-safe LRU of at most ``max_items`` vectors (0 disables it)."""

    def __init__(self, max_items: int = 10_000, *, name: str = "memory") -> None:
        if max_items < 0:
            raise ValueError("max_items cannot be negative")
        self.max_items = max_items
        self.name = name
        self._items: OrderedDict[str, tuple[str, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for k in keys:
                item = self._items.get(k.key)
                if item is not None:
                    self._items.move_to_end(k.key)
                    out[k.key] = item[1]
        return out

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        if self.max_items == 0:
            return
        with self._lock:
            for k, vec in items:
                frozen = np.array(vec, dtype=np.float32)
                frozen.flags.writeable = False  # shared between callers: nobody may edit a cached vector
                self._items[k.key] = (k.text_hash, frozen)
                self._items.move_to_end(k.key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def delete(self, keys: Sequence[CacheKey]) -> int:
        with self._lock:
            return sum(self._items.pop(k.key, None) is not None for k in keys)

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        with self._lock:
            return {k.key for k in keys if k.key in self._items}

    def delete_texts(self, text_hashes: Sequence[str]) -> int:
        wanted = set(text_hashes)
        with self._lock:
            doomed = [key for key, (th, _) in self._items.items() if th in wanted]
            for key in doomed:
                del self._items[key]
        return len(doomed)

    def count_texts(self, text_hashes: Sequence[str]) -> int:
        wanted = set(text_hashes)
        with self._lock:
            return sum(th in wanted for th, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        with self._lock:
            self._items.clear()


class GuardedLayer:
    """Skip a failing layer instead of failing the embedding call: errors are logged, never raised.

    A circuit breaker opens on the first failure, so while the server is down each lookup costs nothing;
    after ``cooldown`` seconds one call probes it again. ``skipped`` counts calls that went without the layer.
    """

    def __init__(self, layer: CacheLayer, *, cooldown: float = 5.0, clock: Clock = SYSTEM_CLOCK) -> None:
        self.layer = layer
        self.name = layer.name
        self.skipped = 0
        self.failures = 0
        self.breaker = CircuitBreaker(
            failure_threshold=1, recovery_timeout=cooldown, clock=clock, name=f"cache:{layer.name}"
        )

    def _guard(self, what: str, fn: Callable[[], T], default: T) -> T:
        try:
            return self.breaker.call(fn)
        except CircuitOpen:
            self.skipped += 1
            return default
        except BackendError as exc:
            self.skipped += 1
            self.failures += 1
            log.warning(
                "embedding cache layer %s is unavailable (%s during %s); skipping it for %.0fs, "
                "embeddings are still served from the other layers and the provider",
                self.name,
                exc,
                what,
                self.breaker.recovery_timeout,
            )
            return default

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        return self._guard("get", lambda: self.layer.get_many(keys), {})

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        self._guard("put", lambda: self.layer.put_many(items), None)

    def delete(self, keys: Sequence[CacheKey]) -> int:
        # an erasure must not pretend to succeed: it bypasses the guard and raises if the layer is down
        return self.layer.delete(keys)

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        return self.layer.present(keys)

    def close(self) -> None:
        self.layer.close()


@dataclass(frozen=True, slots=True)
class Residue:
    """Entries left for some texts, per layer."""

    by_layer: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_layer.values())


class LayeredCache:
    """Layers from fastest to most durable; lookups walk down, hits fill the layers above them."""

    def __init__(self, layers: Sequence[CacheLayer | GuardedLayer]) -> None:
        self.layers = list(layers)
        self.hits: dict[str, int] = {layer.name: 0 for layer in self.layers}
        self.misses = 0
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[CacheKey]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        remaining = list(keys)
        for depth, layer in enumerate(self.layers):
            if not remaining:
                break
            got = layer.get_many(remaining)
            if not got:
                continue
            with self._lock:
                self.hits[layer.name] += len(got)
            found.update(got)
            fill = [(k, got[k.key]) for k in remaining if k.key in got]
            for upper in self.layers[:depth]:
                upper.put_many(fill)
            remaining = [k for k in remaining if k.key not in got]
        with self._lock:
            self.misses += len(remaining)
        return found

    def put_many(self, items: Sequence[tuple[CacheKey, np.ndarray]]) -> None:
        if items:
            for layer in self.layers:
                layer.put_many(items)

    def forget(self, keys: Sequence[CacheKey], text_hashes: Sequence[str]) -> dict[str, int]:
        """Delete these entries everywhere (and, where a layer can, every entry of these texts)."""
        removed: dict[str, int] = {}
        for layer in self.layers:
            inner = layer.layer if isinstance(layer, GuardedLayer) else layer
            n = inner.delete(keys)
            if isinstance(inner, TextIndexedLayer) and text_hashes:
                n += inner.delete_texts(text_hashes)
            removed[layer.name] = n
        return removed

    def residue(self, keys: Sequence[CacheKey], text_hashes: Sequence[str]) -> Residue:
        """What remains for these texts: by text digest where the layer indexes it, else by key."""
        left: dict[str, int] = {}
        for layer in self.layers:
            inner = layer.layer if isinstance(layer, GuardedLayer) else layer
            if isinstance(inner, TextIndexedLayer):
                left[layer.name] = inner.count_texts(text_hashes)
            else:
                left[layer.name] = len(inner.present(keys))
        return Residue(left)

    def present(self, keys: Sequence[CacheKey]) -> set[str]:
        """Keys held by any layer that answers (a layer that is down is skipped, as for lookups)."""
        found: set[str] = set()
        for layer in self.layers:
            inner = layer.layer if isinstance(layer, GuardedLayer) else layer
            try:
                found |= inner.present([k for k in keys if k.key not in found])
            except BackendError as exc:
                log.warning("embedding cache layer %s could not be checked: %s", layer.name, exc)
        return found

    def close(self) -> None:
        for layer in self.layers:
            layer.close()
