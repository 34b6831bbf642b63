"""The erasure index: where each user's data went (user digest → namespace → record ids).

Written on ingest by the keyed-identifier hook, *before* anything reaches a store, so it can over-report
(an ingest that failed after the hook ran) but never under-report. ``forget`` reads it to know which
namespaces and records to visit instead of scanning stores by a key pattern, and deletes a user's rows
only once the erasure has been verified.
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

    def remove(self, user_digests: Sequence[str]) -> int:
        return self.db.execute_in(
            "DELETE FROM vr_erasure_index WHERE user_digest IN ({in})", list(user_digests)
        )

    def count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM vr_erasure_index")[0][0])
