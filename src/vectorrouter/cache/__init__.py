"""The Redis result cache (``pip install 'vectorrouter[redis]'``): fresh answers for repeated queries, and a
stale fallback step of the degradation ladder when every vector store is down.

Its data is user data: :meth:`ResultCache.residue` lists what it still holds for a namespace and
:meth:`ResultCache.delete_namespace` erases it, for the compliance layer's erasure and audits.
"""

from vectorrouter.cache.keys import normalize_query, result_key

__all__ = ["CacheLookup", "CachedAnswer", "ResultCache", "map_redis_error", "normalize_query", "result_key"]


def __getattr__(name: str) -> object:
    # redis is an optional extra: import the Redis-backed parts only when asked for
    if name in ("CacheLookup", "CachedAnswer", "ResultCache", "map_redis_error"):
        from vectorrouter.cache import redis_cache

        return getattr(redis_cache, name)
    raise AttributeError(name)
