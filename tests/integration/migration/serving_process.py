"""A serving process for the rollback test: builds its own router, routes by the shared migration state.

``serving_process.py redis URL PREFIX`` reads the state from Redis; ``serving_process.py file FOLDER`` from a
local folder. Reads one routing key per line from stdin and prints the namespace that served that search, so
the test sees the very next search after a flag flip.
"""

import sys

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.migration import FileStateStore, MigrationResolver, RedisStateStore
from vectorrouter.migration.state import StateStore

OLD, NEW = ModelSpec("hash-32", "hash", 32), ModelSpec("hash-48", "hash", 48)


def open_store(argv: list[str]) -> StateStore:
    kind, *where = argv
    if kind == "redis":
        return RedisStateStore(where[0], prefix=where[1])
    if kind == "file":
        return FileStateStore(where[0])
    raise SystemExit(f"unknown state store {kind!r}: use 'redis URL PREFIX' or 'file FOLDER'")


def main() -> None:
    router = Router(
        embeddings=EmbeddingService([OLD, NEW]), vector_factory=NumpyBackend, default_model="hash-32"
    )
    docs = [Record(id=f"d{i}", text=f"document {i} about topic {i % 4}") for i in range(20)]
    router.ingest("acme:docs:hash-32", docs)
    router.ingest("acme:docs:hash-48", docs)
    router.resolver = MigrationResolver(open_store(sys.argv[1:]))
    print("ready", flush=True)
    for line in sys.stdin:
        key = line.strip()
        if not key:
            break
        result = router.search("acme:docs", "topic 2", k=3, routing_key=key)
        print(result.namespace, flush=True)


if __name__ == "__main__":
    main()
