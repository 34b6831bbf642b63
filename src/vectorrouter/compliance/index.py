"""The erasure index: where each user's data went (user digest → namespace → record ids).

Written on ingest by the keyed-identifier hook, *before* anything reaches a store, so it can over-report
(an ingest that failed after the hook ran) but never under-report. ``forget`` reads it to know which
namespaces and records to visit instead of scanning stores by a key pattern, and deletes a user's rows
only once the erasure has been verified.

Beside it, the *embedding trail*: for each user, the embedding-cache keys their texts were cached under
(one per declared model version, ``document`` task) and the texts' digests. The cache is keyed by text
content, not by user, so this is the only way ``forget`` can find those entries once the records are gone.
It holds the same unkeyed SHA-256 text digests the persistent cache layer itself stores, and goes with the
user's index rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from vectorrouter.compliance._db import Database

__all__ = ["ErasureIndex"]

_DDL = """
CREATE TABLE IF NOT EXISTS vr_erasure_index (
    user_digest TEXT NOT NULL,
    namespace TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (user_digest, namespace, record_id)
);
CREATE TABLE IF NOT EXISTS vr_erasure_texts (
    user_digest TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    PRIMARY KEY (user_digest, cache_key)
)
"""


class ErasureIndex:
    """User digest → the namespaces and stored record ids holding that user's data.

    >>> idx = ErasureIndex(Database.connect(None))
    >>> idx.add([("k1:aa", "acme:docs:v1", "k1:r1"), ("k1:aa", "acme:docs:v1", "k1:r2")])
    >>> idx.where(["k1:aa"])
    {'acme:docs:v1': ['k1:r1', 'k1:r2']}
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(_DDL)

    def add(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(user digest, namespace, record id)`` triples; repeats are ignored."""
        self.db.executemany(
            "INSERT INTO vr_erasure_index VALUES (?,?,?) ON CONFLICT DO NOTHING", list(dict.fromkeys(rows))
        )

    def where(self, user_digests: Sequence[str]) -> dict[str, list[str]]:
        """Namespace → record ids for any of ``user_digests`` (a user's digest under every live key)."""
        rows = self.db.query_in(
            "SELECT namespace, record_id FROM vr_erasure_index WHERE user_digest IN ({in}) "
            "ORDER BY namespace, record_id",
            list(user_digests),
        )
        out: dict[str, list[str]] = defaultdict(list)
        for ns, rid in rows:
            out[ns].append(rid)
        return {ns: list(dict.fromkeys(ids)) for ns, ids in out.items()}

    def add_texts(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(user digest, text digest, embedding-cache key)`` triples; repeats are ignored."""
        self.db.executemany(
            "INSERT INTO vr_erasure_texts VALUES (?,?,?) ON CONFLICT DO NOTHING", list(dict.fromkeys(rows))
        )

    def texts(self, user_digests: Sequence[str]) -> list[tuple[str, str]]:
        """``(text digest, cache key)`` pairs recorded for any of ``user_digests``."""
        rows = self.db.query_in(
            "SELECT DISTINCT text_hash, cache_key FROM vr_erasure_texts WHERE user_digest IN ({in}) "
            "ORDER BY text_hash, cache_key",
            list(user_digests),
        )
        return [(str(t), str(k)) for t, k in rows]

    def remove(self, user_digests: Sequence[str]) -> int:
        self.db.execute_in("DELETE FROM vr_erasure_texts WHERE user_digest IN ({in})", list(user_digests))
        return self.db.execute_in(
            "DELETE FROM vr_erasure_index WHERE user_digest IN ({in})", list(user_digests)
        )

    def count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM vr_erasure_index")[0][0])
