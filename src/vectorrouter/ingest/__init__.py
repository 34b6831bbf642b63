"""The ingest pipeline: events through a queue (in-process or Redis Streams) with a dead-letter queue.

``Router.enqueue`` prepares records (validation and compliance hooks) and puts events; an
:class:`IngestWorker` applies them, retrying store failures and dead-lettering the rest, so no event is lost.
"""

from vectorrouter.ingest.base import IngestQueue
from vectorrouter.ingest.events import Delivery, IngestEvent
from vectorrouter.ingest.memory import MemoryQueue
from vectorrouter.ingest.worker import IngestWorker, WorkerStats

__all__ = [
    "Delivery",
    "IngestEvent",
    "IngestQueue",
    "IngestWorker",
    "MemoryQueue",
    "RedisStreamQueue",
    "WorkerStats",
]


def __getattr__(name: str) -> object:
    if name == "RedisStreamQueue":  # imported lazily: redis is an optional extra
        from vectorrouter.ingest.redis_queue import RedisStreamQueue

        return RedisStreamQueue
    raise AttributeError(name)
