"""Owning one Qdrant Edge shard on disk, and building its HNSW index without stalling the process.

Why a child process: ``EdgeShard.optimize()`` (which builds HNSW) holds the GIL for its whole run (measured
~15 s for 20k 384-d points on 2 cores), so a background *thread* would freeze every Python thread. Instead:

1. under the write lock, flush the live shard and copy its directory to ``build-N``; from then on every
   write is applied to the live shard *and* kept in an in-memory journal;
2. a child process (``_edge_build.py``) loads the copy and optimizes it, while
   this process keeps serving reads (exact search over the plain segments) and writes;
3. under the write lock, the built copy is renamed ``shard-N``, loaded, the journal replayed, flushed, and
   ``CURRENT`` is atomically pointed at it; readers are paused only for the pointer swap.

A crash at any point leaves ``CURRENT`` naming a complete shard; stray ``build-*``/``shard-*`` directories
are removed on the next open.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vectorrouter.errors import BackendUnavailable

__all__ = ["EdgeShardStore"]

log = logging.getLogger("vectorrouter.qdrant_edge")

_CURRENT = "CURRENT"


class _ReadWriteLock:
    """Many readers or one exclusive holder; used only to swap or close the shard under running reads.

    Readers only touch a counter under a plain lock; the condition is signalled only when an exclusive
    holder is actually waiting, so the search path pays two uncontended lock round-trips and nothing more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._readers = 0
        self._exclusive = False

    def acquire_read(self) -> None:
        with self._lock:
            while self._exclusive:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._lock:
            self._readers -= 1
            if self._exclusive and not self._readers:
                self._cond.notify_all()

    def acquire_exclusive(self) -> None:
        with self._lock:
            while self._exclusive:
                self._cond.wait()
            self._exclusive = True
            while self._readers:
                self._cond.wait()

    def release_exclusive(self) -> None:
        with self._lock:
            self._exclusive = False
            self._cond.notify_all()


def _wal_allocations(directory: str, names: list[str]) -> set[str]:
    """What a build's copy of the live shard leaves out: the write-ahead log's segments still being allocated.

    The engine's WAL prepares its next segment on a thread of its own, as ``tmp-open-<n>`` renamed to
    ``open-<n>`` when ready, whatever lock we hold; the copy could list the file under one name and find it
    gone by the other. Such a segment holds no entries yet, and the build's shard allocates its own.
    """
    if os.path.basename(directory) != "wal":
        return set()
    return {n for n in names if n.startswith("tmp-")}


class _Reader:
    """``with store.reader as shard:`` — a class-based context manager, cheaper than a generator on the hot path."""

    __slots__ = ("_store",)

    def __init__(self, store: EdgeShardStore) -> None:
        self._store = store

    def __enter__(self) -> Any:
        store = self._store
        store._rw.acquire_read()
        if store._shard is None:
            store._rw.release_read()
            raise BackendUnavailable("the shard is closed", backend=store.name)
        return store._shard

    def __exit__(self, *exc: object) -> None:
        self._store._rw.release_read()


class EdgeShardStore:
    """One Edge shard under ``root`` (a temporary directory when ``root`` is None, removed on close).

    ``open_shard(path, create)`` creates or loads a shard at ``path``; ``map_error`` turns an engine
    exception into ours. Writes go through :meth:`apply`; reads through ``with store.reader as shard``.
    """

    def __init__(
        self,
        root: Path | None,
        open_shard: Callable[[Path, bool], Any],
        map_error: Callable[[BaseException], Exception],
        *,
        name: str = "qdrant-edge",
        index_after: int = 0,
    ) -> None:
        self.name = name
        self._temporary = root is None
        self._root = Path(tempfile.mkdtemp(prefix="vectorrouter-edge-")) if root is None else Path(root)
        self._open_shard = open_shard
        self._map_error = map_error
        self._index_after = index_after
        self._rw = _ReadWriteLock()
        self._write_lock = threading.RLock()
        self._journal: list[Any] | None = None
        self._since_build = 0
        self._builder: threading.Thread | None = None
        self._child: subprocess.Popen[str] | None = None
        self._build_done = threading.Event()
        self._build_done.set()
        self._build_error: BaseException | None = None
        self._closing = False
        self.reader = _Reader(self)
        self._root.mkdir(parents=True, exist_ok=True)
        self._gen, self._live = self._locate()
        try:
            self._shard: Any = open_shard(self._live, not (self._live / "segments").exists())
        except Exception as exc:
            if self._temporary:
                shutil.rmtree(self._root, ignore_errors=True)
            raise map_error(exc) from exc
        if not (self._root / _CURRENT).exists():
            self._point_current_at(self._live)
        self._sweep()

    # -- layout -----------------------------------------------------------------------------------
    def _locate(self) -> tuple[int, Path]:
        current = self._root / _CURRENT
        if current.exists():
            name = current.read_text().strip()
            return int(name.rsplit("-", 1)[1]), self._root / name
        return 0, self._root / "shard-000000"

    def _point_current_at(self, shard_dir: Path) -> None:
        tmp = self._root / f"{_CURRENT}.tmp"
        with open(tmp, "w") as fh:
            fh.write(shard_dir.name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._root / _CURRENT)

    def _sweep(self) -> None:
        """Remove what an interrupted build or swap left behind."""
        for child in self._root.iterdir():
            if child.is_dir() and child != self._live and child.name.startswith(("shard-", "build-")):
                shutil.rmtree(child, ignore_errors=True)

    # -- writes -----------------------------------------------------------------------------------
    def apply(self, operation: Any, *, points: int = 0) -> None:
        """Apply one update operation (journaled while a build runs); maybe start a background build."""
        with self._write_lock:
            if self._shard is None:
                raise BackendUnavailable("the shard is closed", backend=self.name)
            try:
                self._shard.update(operation)
            except Exception as exc:
                raise self._map_error(exc) from exc
            if self._journal is not None:
                self._journal.append(operation)
            self._since_build += points
            if self._index_after and self._since_build >= self._index_after and self._builder is None:
                self._start_build()

    @property
    def write_lock(self) -> threading.RLock:
        """Held by read-then-write verbs (delete counts what it removes) so nothing slips in between."""
        return self._write_lock

    # -- index building ---------------------------------------------------------------------------
    @property
    def building(self) -> bool:
        return self._builder is not None

    def build_index(self, *, wait: bool = True) -> None:
        """Build HNSW for everything written so far in a child process.

        With ``wait``, block until every write made before this call is in a swapped-in build (a build
        already running is waited for, then followed by another if writes arrived after it started).
        """
        with self._write_lock:
            if self._shard is None:
                raise BackendUnavailable("the shard is closed", backend=self.name)
            if self._builder is None:
                self._start_build()
                chase = False
            else:
                chase = True  # the running build started before some of the writes being asked for
        if not wait:
            return
        self._build_done.wait()
        self._raise_build_error()
        if chase:
            with self._write_lock:
                if self._builder is None and self._shard is not None:
                    self._start_build()
            self._build_done.wait()
            self._raise_build_error()

    def _raise_build_error(self) -> None:
        error, self._build_error = self._build_error, None
        if error is not None:
            raise error

    def wait_for_build(self, timeout: float | None = None) -> bool:
        """Wait for a running build (if any) to finish; False if ``timeout`` passed first."""
        return self._build_done.wait(timeout)

    def _start_build(self) -> None:
        gen = self._gen + 1
        target = self._root / f"build-{gen:06d}"
        shutil.rmtree(target, ignore_errors=True)
        try:
            self._shard.flush()
        except Exception as exc:
            raise self._map_error(exc) from exc
        shutil.copytree(self._live, target, ignore=_wal_allocations)
        self._journal = []
        self._since_build = 0
        self._build_error = None
        self._build_done.clear()
        self._builder = threading.Thread(
            target=self._run_build, args=(gen, target), name=f"vectorrouter-edge-build-{gen}", daemon=True
        )
        self._builder.start()

    def _run_build(self, gen: int, target: Path) -> None:
        try:
            self._child = subprocess.Popen(
                # by path, not ``-m`` (importing vectorrouter would only slow the child); -P keeps this folder,
                # whose qdrant_edge.py would shadow the engine, off sys.path
                [sys.executable, "-P", str(Path(__file__).with_name("_edge_build.py")), str(target)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            if self._closing:  # close() may have looked for a child just before this one existed
                self._child.kill()
            _, err = self._child.communicate()
            if self._child.returncode != 0:
                raise BackendUnavailable(
                    f"index build exited with {self._child.returncode}: {err.strip()[-400:]}",
                    backend=self.name,
                )
            self._swap(gen, target)
        except BaseException as exc:
            log.warning("HNSW build %d for %s failed; exact search continues: %s", gen, self._root, exc)
            self._build_error = exc if isinstance(exc, BackendUnavailable) else self._map_error(exc)
            with self._write_lock:
                self._journal = None
                if self._gen != gen:  # never remove a build that already went live
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.rmtree(self._root / f"shard-{gen:06d}", ignore_errors=True)
        finally:
            self._child = None
            self._builder = None
            self._build_done.set()

    def _swap(self, gen: int, target: Path) -> None:
        final = self._root / f"shard-{gen:06d}"
        with self._write_lock:
            if self._shard is None or self._closing:
                raise BackendUnavailable("closed during an index build", backend=self.name)
            target.rename(final)
            new = self._open_shard(final, False)
            try:
                for operation in self._journal or ():
                    new.update(operation)
                new.flush()
                self._point_current_at(final)
            except BaseException:
                new.close()
                raise
            self._rw.acquire_exclusive()
            old, old_dir = self._shard, self._live
            self._shard, self._live, self._gen = new, final, gen
            self._rw.release_exclusive()
            self._journal = None
            try:
                old.close()
            except Exception as exc:  # the new shard is live and complete; the old one only held a copy
                log.warning("closing the replaced shard %s failed: %s", old_dir, exc)
        shutil.rmtree(old_dir, ignore_errors=True)
        log.info("HNSW build %d swapped in for %s", gen, self._root)

    # -- lifecycle --------------------------------------------------------------------------------
    def flush(self) -> None:
        with self._write_lock:
            if self._shard is not None:
                self._shard.flush()

    def close(self) -> None:
        """Stop a running build, flush and close the shard; remove the directory if it was temporary."""
        with self._write_lock:
            self._closing = True
        child, builder = self._child, self._builder
        if child is not None and child.poll() is None:
            child.kill()
        if builder is not None:
            builder.join()
        with self._write_lock:
            shard, self._shard = self._shard, None
            if shard is not None:
                self._rw.acquire_exclusive()
                self._rw.release_exclusive()
                try:
                    shard.flush()
                finally:
                    shard.close()
        if self._temporary:
            shutil.rmtree(self._root, ignore_errors=True)
