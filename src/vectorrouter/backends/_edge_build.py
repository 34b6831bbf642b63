"""Child-process entry point that builds the HNSW index of a copied Qdrant Edge shard.

Run as ``python _edge_build.py <shard-dir>`` (by path, so the package is not imported) by
:class:`~vectorrouter.backends._edge_store.EdgeShardStore`: ``optimize()`` holds the GIL for its whole run,
so it must not run inside the serving process. The shard's persisted configuration (HNSW ``m``,
``ef_construct``, indexing threshold) decides what is built.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python _edge_build.py <shard-dir>", file=sys.stderr)
        return 2
    import qdrant_edge

    shard = qdrant_edge.EdgeShard.load(argv[0])
    try:
        shard.optimize()
        shard.flush()
    finally:
        shard.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
