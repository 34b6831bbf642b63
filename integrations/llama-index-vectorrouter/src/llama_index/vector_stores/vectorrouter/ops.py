"""The core's plan runner, as the LlamaIndex store uses it (see :mod:`vectorrouter.plans`).

Each store method's logic exists once, as a plan; ``Runner.run`` and ``Runner.arun`` drive it with blocking
calls or the router's async twins. Reading a namespace nobody has written yet yields nothing rather than an
error, as a new LlamaIndex store would.
"""

from vectorrouter.plans import (
    Count,
    Delete,
    EmbedQuery,
    Get,
    Ingest,
    Op,
    Plan,
    Runner,
    Scroll,
    Search,
    check_width,
    write_target,
)

__all__ = [
    "Count",
    "Delete",
    "EmbedQuery",
    "Get",
    "Ingest",
    "Op",
    "Plan",
    "Runner",
    "Scroll",
    "Search",
    "check_width",
    "write_target",
]
