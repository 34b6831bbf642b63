"""The policy seam: a policy wraps a zero-argument call. Policies compose outer-to-inner with ``|``.

>>> from vectorrouter.policies import Retry, Bulkhead
>>> guarded = Bulkhead(4) | Retry(attempts=2)      # bulkhead outside, retry inside
>>> guarded.call(lambda: 42)
42
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

__all__ = ["Chain", "Policy"]

T = TypeVar("T")


class Policy:
    """Base for every policy: ``call(fn)`` runs ``fn`` under the policy and returns its result."""

    def call(self, fn: Callable[[], T]) -> T:  # pragma: no cover - abstract
        raise NotImplementedError

    def __or__(self, inner: Policy) -> Chain:
        return Chain((self, inner))


class Chain(Policy):
    """Policies applied outermost first: ``Chain((a, b)).call(fn)`` is ``a.call(lambda: b.call(fn))``."""

    def __init__(self, policies: tuple[Policy, ...]) -> None:
        flat: list[Policy] = []
        for p in policies:
            flat.extend(p.policies if isinstance(p, Chain) else (p,))
        self.policies: tuple[Policy, ...] = tuple(flat)

    def call(self, fn: Callable[[], T]) -> T:
        wrapped = fn
        for policy in reversed(self.policies):
            wrapped = partial(policy.call, wrapped)
        return wrapped()

    def __or__(self, inner: Policy) -> Chain:
        return Chain((*self.policies, inner))

    def __repr__(self) -> str:
        return " | ".join(repr(p) for p in self.policies)
