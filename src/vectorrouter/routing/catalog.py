"""The namespace catalog: which versioned namespaces exist, where they live, and which version is active.

Reads are served from memory (a search must not touch SQLite); every change is written through to a
SQLite file so a new process sees the same namespaces. ``path=None`` keeps everything in memory.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vectorrouter.errors import InvalidNamespace, NamespaceNotFound
from vectorrouter.types import Namespace, parse_logical

__all__ = ["Catalog", "NamespaceInfo"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    name TEXT PRIMARY KEY, tenant TEXT NOT NULL, feature TEXT NOT NULL, model_version TEXT NOT NULL,
    index_name TEXT NOT NULL, dimensions INTEGER NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS active (logical TEXT PRIMARY KEY, model_version TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class NamespaceInfo:
    namespace: Namespace
    index_name: str
    dimensions: int
    created_at: float
    active: bool


class Catalog:
    """Namespace registry.

    >>> c = Catalog()
    >>> ns = c.register(Namespace("acme", "docs", "v1"), index_name="vr-64d-cosine", dimensions=64)
    >>> str(c.resolve("acme:docs"))
    'acme:docs:v1'
    """

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._infos: dict[str, NamespaceInfo] = {}
        self._active: dict[str, str] = {}
        self._load()

    def _load(self) -> None:
        with self._lock:
            self._read()

    def _read(self) -> None:
        active = dict(self._db.execute("SELECT logical, model_version FROM active").fetchall())
        self._active = active
        for name, _t, _f, _v, index_name, dims, created in self._db.execute("SELECT * FROM namespaces"):
            ns = Namespace.parse(name)
            self._infos[name] = NamespaceInfo(
                ns, index_name, dims, created, active.get(ns.logical) == ns.model_version
            )

    # -- reads (memory only) ----------------------------------------------------------------------
    def resolve(self, name: str | Namespace) -> Namespace:
        """The existing versioned namespace meant by ``name`` (``tenant:feature`` → its active version)."""
        if isinstance(name, Namespace):
            if str(name) not in self._infos:
                raise NamespaceNotFound(str(name), list(self._infos))
            return name
        # fast paths for the two well-formed spellings: this runs on every search
        info = self._infos.get(name)
        if info is not None:
            return info.namespace
        active = self._active.get(name)
        if active is not None and (info := self._infos.get(f"{name}:{active}")) is not None:
            return info.namespace
        tenant, feature, version = parse_logical(name)
        if version is None:
            version = self._active.get(f"{tenant}:{feature}")
            if version is None:
                self._load()  # created by another process since this one started?
                version = self._active.get(f"{tenant}:{feature}")
            if version is None:
                raise NamespaceNotFound(name, sorted({i.namespace.logical for i in self._infos.values()}))
        key = f"{tenant}:{feature}:{version}"
        info = self._infos.get(key)
        if info is None:
            self._load()  # another process may have created it since (a migration's new version, say)
            info = self._infos.get(key)
        if info is None:
            raise NamespaceNotFound(key, list(self._infos))
        return info.namespace

    def exists(self, name: str | Namespace) -> bool:
        return str(name) in self._infos

    def active_version(self, logical: str) -> str | None:
        return self._active.get(logical)

    def info(self, ns: Namespace) -> NamespaceInfo:
        try:
            return self._infos[str(ns)]
        except KeyError:
            raise NamespaceNotFound(str(ns), list(self._infos)) from None

    def list(self, tenant: str | None = None) -> list[NamespaceInfo]:
        infos = sorted(self._infos.values(), key=lambda i: str(i.namespace))
        return [i for i in infos if tenant is None or i.namespace.tenant == tenant]

    # -- writes (write-through) -------------------------------------------------------------------
    def register(
        self, ns: Namespace, *, index_name: str, dimensions: int, activate: bool | None = None
    ) -> NamespaceInfo:
        """Record that ``ns`` exists in ``index_name``. The first version of a logical namespace becomes active."""
        with self._lock:
            existing = self._infos.get(str(ns))
            if existing is not None:
                if existing.dimensions != dimensions:
                    raise InvalidNamespace(
                        f"namespace {ns} already holds {existing.dimensions}-d vectors in {existing.index_name!r};"
                        f" a {dimensions}-d model needs its own model_version"
                    )
                if activate:
                    self.set_active(ns)
                return self._infos[str(ns)]
            created = time.time()
            # OR IGNORE: another process sharing the file may have registered it first; then reload its row
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO namespaces VALUES (?,?,?,?,?,?,?)",
                (str(ns), ns.tenant, ns.feature, ns.model_version, index_name, dimensions, created),
            ).rowcount
            if not inserted:
                self._read()
                return self.register(ns, index_name=index_name, dimensions=dimensions, activate=activate)
            make_active = activate if activate is not None else ns.logical not in self._active
            self._infos[str(ns)] = NamespaceInfo(ns, index_name, dimensions, created, False)
            if make_active:
                self.set_active(ns)
            return self._infos[str(ns)]

    def set_active(self, ns: Namespace) -> None:
        """Make ``ns`` the version that ``tenant:feature`` resolves to."""
        with self._lock:
            if str(ns) not in self._infos:
                raise NamespaceNotFound(str(ns), list(self._infos))
            self._db.execute(
                "INSERT INTO active VALUES (?, ?) ON CONFLICT(logical) DO UPDATE SET model_version=excluded.model_version",
                (ns.logical, ns.model_version),
            )
            self._active[ns.logical] = ns.model_version
            for key, info in self._infos.items():
                if info.namespace.logical == ns.logical:
                    is_active = info.namespace.model_version == ns.model_version
                    self._infos[key] = NamespaceInfo(
                        info.namespace, info.index_name, info.dimensions, info.created_at, is_active
                    )

    def drop(self, ns: Namespace) -> None:
        with self._lock:
            self._db.execute("DELETE FROM namespaces WHERE name = ?", (str(ns),))
            self._infos.pop(str(ns), None)
            if self._active.get(ns.logical) == ns.model_version:
                self._db.execute("DELETE FROM active WHERE logical = ?", (ns.logical,))
                del self._active[ns.logical]

    def close(self) -> None:
        with self._lock:
            self._db.close()
