"""A serving process for the rollback test: builds its own router, routes by the shared Redis state.

Reads one line per request from stdin and prints the namespace that served it, so the test can see the
very next search after a flag flip.
"""

import sys

from vectorrouter import EmbeddingService, ModelSpec, Record, Router
from vectorrouter.backends import NumpyBackend
from vectorrouter.migration import MigrationResolver, RedisStateStore

OLD, NEW = ModelSpec("hash-32", "hash", 32), ModelSpec("hash-48", "hash", 48)


def main() -> None:
    url, prefix = sys.argv[1], sys.argv[2]
    router = Router(
        embeddings=EmbeddingService([OLD, NEW]), vector_factory=NumpyBackend, default_model="hash-32"
    )
    docs = [Record(id=f"d{i}", text=f"document {i} about topic {i % 4}") for i in range(20)]
    router.ingest("acme:docs:hash-32", docs)
    router.ingest("acme:docs:hash-48", docs)
    router.resolver = MigrationResolver(RedisStateStore(url, prefix=prefix))
    print("ready", flush=True)
    for line in sys.stdin:
        key = line.strip()
        if not key:
            break
        result = router.search("acme:docs", "topic 2", k=3, routing_key=key)
        print(result.namespace, flush=True)


if __name__ == "__main__":
    main()
