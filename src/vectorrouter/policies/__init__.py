"""Small composable policies in the spirit of tenacity: retry, timeout, circuit breaker, bulkhead, rate limit.

Each wraps a zero-argument call; ``a | b`` applies ``a`` outside ``b``. Clocks and sleeps are injectable so
behaviour is tested without real waiting. Only :mod:`vectorrouter.errors` types cross a policy.
"""

from vectorrouter.policies.base import Chain, Policy
from vectorrouter.policies.breaker import BreakerState, CircuitBreaker
from vectorrouter.policies.bulkhead import Bulkhead
from vectorrouter.policies.clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from vectorrouter.policies.ratelimit import RateLimit, TokenBucket
from vectorrouter.policies.retry import Retry, backoff_delay
from vectorrouter.policies.timeout import Timeout

__all__ = [
    "SYSTEM_CLOCK",
    "BreakerState",
    "Bulkhead",
    "Chain",
    "CircuitBreaker",
    "Clock",
    "FakeClock",
    "Policy",
    "RateLimit",
    "Retry",
    "SystemClock",
    "Timeout",
    "TokenBucket",
    "backoff_delay",
]
