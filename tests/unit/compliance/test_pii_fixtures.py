"""The labelled PII sets stay usable: every label occurs in its text, and the held-out sets are big enough,
disjoint from each other and from the tuning set; held-out v2 is exactly what its generator writes, and its
checksummed labels carry valid check digits (independently of the scrubber's own checks)."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pii"
KINDS = {"email", "phone", "card", "iban", "national_id", "ip"}


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["labelled.jsonl", "heldout.jsonl", "heldout_v2.jsonl"])
def test_every_label_is_a_substring_of_its_text_and_of_a_known_kind(name: str) -> None:
    labelled = rows(name)
    assert labelled
    for row in labelled:
        for kind, value in row["pii"]:
            assert kind in KINDS, row
            assert value in row["text"], row


@pytest.mark.parametrize(("name", "look_alikes"), [("heldout.jsonl", 50), ("heldout_v2.jsonl", 60)])
def test_a_held_out_set_has_200_strings_with_look_alikes_of_its_own(name: str, look_alikes: int) -> None:
    held = rows(name)
    assert len(held) >= 200
    assert sum(1 for r in held if not r["pii"]) >= look_alikes
    assert {k for r in held for k, _ in r["pii"]} == KINDS
    tuned = {r["text"] for r in rows("labelled.jsonl")}
    assert not tuned & {r["text"] for r in held}, "a held-out set must not reuse tuning strings"


def test_held_out_v2_shares_no_string_and_no_labelled_value_with_v1_or_the_tuning_set() -> None:
    v2 = rows("heldout_v2.jsonl")
    earlier = rows("heldout.jsonl") + rows("labelled.jsonl")
    assert not {r["text"] for r in v2} & {r["text"] for r in earlier}
    v2_values = {v for r in v2 for _, v in r["pii"]}
    assert not v2_values & {v for r in earlier for _, v in r["pii"]}


def test_held_out_v2_is_what_its_generator_writes() -> None:
    script = FIXTURES / "make_heldout_v2.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, check=False)
    assert done.returncode == 0, (
        "heldout_v2.jsonl differs from make_heldout_v2.py: regenerate, do not hand-edit"
    )


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def test_held_out_v2_labels_carry_valid_check_digits() -> None:
    for row in rows("heldout_v2.jsonl"):
        for kind, value in row["pii"]:
            if kind == "card":
                digits = re.sub(r"[ -]", "", value)
                assert digits.isdigit(), value
                assert 12 <= len(digits) <= 19, value
                assert luhn_ok(digits), value
            elif kind == "iban":
                code = value.replace(" ", "")
                moved = code[4:] + code[:4]
                assert int("".join(str(int(c, 36)) for c in moved)) % 97 == 1, value
            elif kind == "national_id" and re.fullmatch(r"\d{8}-?[A-Z]", value):
                assert "TRWAGMYFPDXBNJZSQVHLCKE"[int(value[:8]) % 23] == value[-1], value
