import os
import subprocess
import sys
from collections import Counter

import pytest

from vectorrouter.errors import ConfigurationError
from vectorrouter.migration import Schedule, Split, bucket

USERS = [f"user-{i}" for i in range(100_000)]
SALT = "acme:docs/minilm-l6->lsa-768"


def arms(split: Split) -> list[str]:
    return [split.arm_for(u, salt=SALT) for u in USERS]


@pytest.mark.parametrize("pct", [5.0, 25.0, 50.0, 100.0])
def test_each_step_gives_the_new_arm_its_share_within_one_percent(pct: float) -> None:
    shares = Counter(arms(Split(new=pct)))
    assert abs(shares["new"] / len(USERS) * 100 - pct) <= 1.0
    assert abs(shares["old"] / len(USERS) * 100 - (100 - pct)) <= 1.0


def test_three_arms_each_get_their_share_within_one_percent() -> None:
    shares = Counter(arms(Split(new=25.0, adapter=10.0)))
    for arm, target in (("new", 25.0), ("adapter", 10.0), ("old", 65.0)):
        assert abs(shares[arm] / len(USERS) * 100 - target) <= 1.0, arm


@pytest.mark.parametrize("candidate", ["new", "adapter"])
def test_no_user_leaves_a_candidate_arm_while_the_schedule_grows(candidate: str) -> None:
    schedule = Schedule(arm=candidate)  # type: ignore[arg-type]
    previous = arms(schedule.split_at(-1))
    assert set(previous) == {"old"}
    for step, pct in enumerate(schedule.steps):
        current = arms(schedule.split_at(step))
        left = sum(1 for a, b in zip(previous, current, strict=True) if a == candidate and b != candidate)
        moved = sum(1 for a, b in zip(previous, current, strict=True) if a != b)
        assert left == 0  # nobody on the candidate arm is ever sent back
        assert all(b == candidate for a, b in zip(previous, current, strict=True) if a != b)  # only old → it
        assert moved > 0  # each step really moves users onto the candidate arm
        assert abs(current.count(candidate) / len(USERS) * 100 - pct) <= 1.0
        previous = current
    assert set(previous) == {candidate}


def test_two_growing_candidate_arms_keep_their_users() -> None:
    splits = [
        Split(new=5, adapter=5),
        Split(new=5, adapter=25),
        Split(new=30, adapter=25),
        Split(new=50, adapter=50),
    ]
    previous = arms(splits[0])
    for split in splits[1:]:
        assert split.grows_from(Split(new=5, adapter=5))
        current = arms(split)
        for arm in ("new", "adapter"):
            assert all(b == arm for a, b in zip(previous, current, strict=True) if a == arm)
        previous = current


def test_buckets_are_the_same_in_another_process_with_another_hash_seed() -> None:
    code = "from vectorrouter.migration import bucket; print([bucket(f'user-{i}', 's') for i in range(50)])"
    here = str([bucket(f"user-{i}", "s") for i in range(50)])
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_salt_buckets_users_independently_per_migration() -> None:
    first = {u for u in USERS[:20_000] if Split(new=10).arm_for(u, salt="a") == "new"}
    second = {u for u in USERS[:20_000] if Split(new=10).arm_for(u, salt="b") == "new"}
    overlap = len(first & second) / len(first)
    assert 0.05 < overlap < 0.15  # ≈10%: independent, not the same users every time


def test_requests_without_a_routing_key_stay_on_the_old_version_until_it_has_no_share() -> None:
    assert Split(new=50).arm_for(None, salt=SALT) == "old"
    assert Split(new=100).arm_for(None, salt=SALT) == "new"


def test_bad_schedules_and_splits_name_the_field() -> None:
    with pytest.raises(ConfigurationError, match="rollout.steps"):
        Schedule((5, 5, 50))
    with pytest.raises(ConfigurationError, match="rollout.steps"):
        Schedule.parse("5,ten,50")
    with pytest.raises(ConfigurationError, match="rollout.arm"):
        Schedule(arm="old")
    with pytest.raises(ConfigurationError, match="exceeds 100%"):
        Split(new=60, adapter=50)
    with pytest.raises(ConfigurationError, match="rollout.new"):
        Split(new=-1)
    assert Schedule.parse("10, 40, 100").steps == (10.0, 40.0, 100.0)
