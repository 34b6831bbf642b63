"""Pure routing decisions: namespaces, dimension-matched indexes and result fusion."""

from vectorrouter.routing.catalog import Catalog, NamespaceInfo
from vectorrouter.routing.fusion import RRF_K, rrf
from vectorrouter.routing.indexes import IndexRouter, VectorFactory

__all__ = ["RRF_K", "Catalog", "IndexRouter", "NamespaceInfo", "VectorFactory", "rrf"]
