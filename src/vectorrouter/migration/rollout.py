"""Percentage rollout with sticky bucketing: which arm of a migration serves a given routing key.

A routing key (a user or session id) is hashed with SHA-256 and a per-migration salt into one of 10,000
buckets. The candidate arms grow from the two ends of the bucket line — ``new`` from the bottom, ``adapter``
from the top — and ``old`` keeps the middle. So while percentages only grow, a key already on a candidate arm
stays on it, and keys only ever move from ``old`` to a candidate. The salt makes two migrations bucket users
independently (a user in the first 5% of one rollout is not in the first 5% of every rollout).

>>> split = Split(new=25.0)
>>> split.arm_for("user-42", salt="acme:docs/v2") in ("old", "new")
True
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vectorrouter.errors import ConfigurationError

__all__ = ["ARMS", "BUCKETS", "Arm", "Schedule", "Split", "bucket"]

Arm = Literal["old", "new", "adapter"]
ARMS: tuple[Arm, ...] = ("old", "new", "adapter")
#: Bucket resolution: 0.01% of traffic.
BUCKETS = 10_000


def bucket(key: str, salt: str) -> int:
    """The stable bucket (``0 <= b < 10000``) of ``key`` under ``salt``: the same in every process and machine."""
    if not isinstance(key, str):
        raise TypeError(f"routing key must be a string, got {type(key).__name__}")
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def _percent(name: str, value: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.0 <= value <= 100.0:
        raise ConfigurationError(
            f"{value!r} is not a percentage", field=name, fix="use a number from 0 to 100"
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class Split:
    """Traffic shares (percent) of the candidate arms; ``old`` gets the rest."""

    new: float = 0.0
    adapter: float = 0.0

    def __post_init__(self) -> None:
        _percent("rollout.new", self.new)
        _percent("rollout.adapter", self.adapter)
        if self.new + self.adapter > 100.0 + 1e-9:
            raise ConfigurationError(
                f"new ({self.new}%) + adapter ({self.adapter}%) exceeds 100%",
                field="rollout",
                fix="lower one arm's percentage",
            )

    @property
    def old(self) -> float:
        return max(0.0, 100.0 - self.new - self.adapter)

    def share(self, arm: Arm) -> float:
        return {"old": self.old, "new": self.new, "adapter": self.adapter}[arm]

    def arm_for_bucket(self, b: int) -> Arm:
        # percent → bucket count; rounding keeps each arm's share exact to the resolution
        if b < round(self.new * BUCKETS / 100.0):
            return "new"
        if b >= BUCKETS - round(self.adapter * BUCKETS / 100.0):
            return "adapter"
        return "old"

    def arm_for(self, key: str | None, *, salt: str) -> Arm:
        """The arm serving ``key``; requests without a key are served by ``old`` (never bucketed at random)."""
        if key is None:
            return "old" if self.old > 0 else ("new" if self.new >= self.adapter else "adapter")
        return self.arm_for_bucket(bucket(key, salt))

    def grows_from(self, previous: Split) -> bool:
        """True when no candidate arm shrank: then no key leaves the arm it was on."""
        return self.new >= previous.new and self.adapter >= previous.adapter


@dataclass(frozen=True, slots=True)
class Schedule:
    """The steps a candidate arm takes, and how long each must run before the next.

    >>> s = Schedule()
    >>> s.steps, s.split_at(1)
    ((5.0, 25.0, 50.0, 100.0), Split(new=25.0, adapter=0.0))
    """

    steps: tuple[float, ...] = (5.0, 25.0, 50.0, 100.0)
    #: Which arm the schedule grows: ``new`` (the re-embedded version) or ``adapter`` (new queries, old index).
    arm: Arm = "new"
    #: Seconds a step must have run before ``advance`` moves on (``--force`` skips the wait).
    min_dwell_seconds: float = 3600.0
    #: Advance automatically when the dwell is over and the quality gate passes.
    auto_advance: bool = False

    def __post_init__(self) -> None:
        if self.arm not in ("new", "adapter"):
            raise ConfigurationError(
                f"the rollout grows a candidate arm, not {self.arm!r}",
                field="rollout.arm",
                fix="use 'new' or 'adapter'",
            )
        steps = tuple(_percent("rollout.steps", s) for s in self.steps)
        if not steps or any(b <= a for a, b in itertools.pairwise(steps)) or steps[0] <= 0:
            raise ConfigurationError(
                f"steps {list(self.steps)} must be positive and strictly increasing",
                field="rollout.steps",
                fix="use e.g. 5,25,50,100",
            )
        if self.min_dwell_seconds < 0:
            raise ConfigurationError("must be >= 0", field="rollout.min_dwell_seconds", fix="use e.g. 3600")
        object.__setattr__(self, "steps", steps)

    @classmethod
    def parse(cls, text: str | Sequence[float], **kw: object) -> Schedule:
        """``"5,25,50,100"`` (or a sequence of numbers) → a schedule."""
        try:
            parts: list[object] = (
                [p for p in text.replace("→", ",").split(",") if p.strip()]
                if isinstance(text, str)
                else list(text)
            )
        except TypeError:
            raise ConfigurationError(
                f"steps {text!r} are not a list of percentages",
                field="rollout.steps",
                fix='use e.g. "5,25,50,100" or [5, 25, 50, 100]',
            ) from None
        steps = []
        for part in parts:
            try:
                if isinstance(part, bool):
                    raise TypeError(part)
                steps.append(float(part))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ConfigurationError(
                    f"step {part!r} of {text!r} is not a number",
                    field="rollout.steps",
                    fix="use percentages, e.g. 5,25,50,100",
                ) from None
        return cls(tuple(steps), **kw)  # type: ignore[arg-type]

    def split_at(self, step: int) -> Split:
        """The split at step index ``step`` (``-1``: nothing rolled out yet)."""
        if step < 0:
            return Split()
        pct = self.steps[min(step, len(self.steps) - 1)]
        return Split(new=pct) if self.arm == "new" else Split(adapter=pct)

    @property
    def last(self) -> int:
        return len(self.steps) - 1
