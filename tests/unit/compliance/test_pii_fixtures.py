"""The labelled PII sets stay usable: every label occurs in its text, and the held-out sets are big enough,
disjoint from each other and from the tuning set; held-out v2 and v3 are exactly what their generators write,
and their checksummed labels carry valid check digits (independently of the scrubber's own checks)."""

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


@pytest.mark.parametrize("name", ["labelled.jsonl", "heldout.jsonl", "heldout_v2.jsonl", "heldout_v3.jsonl"])
def test_every_label_is_a_substring_of_its_text_and_of_a_known_kind(name: str) -> None:
    labelled = rows(name)
    assert labelled
    for row in labelled:
        for kind, value in row["pii"]:
            assert kind in KINDS, row
            assert value in row["text"], row


@pytest.mark.parametrize(
    ("name", "look_alikes"), [("heldout.jsonl", 50), ("heldout_v2.jsonl", 60), ("heldout_v3.jsonl", 75)]
)
def test_a_held_out_set_has_200_strings_with_look_alikes_of_its_own(name: str, look_alikes: int) -> None:
    held = rows(name)
    assert len(held) >= 200
    assert sum(1 for r in held if not r["pii"]) >= look_alikes
    assert {k for r in held for k, _ in r["pii"]} == KINDS
    tuned = {r["text"] for r in rows("labelled.jsonl")}
    assert not tuned & {r["text"] for r in held}, "a held-out set must not reuse tuning strings"


def test_held_out_v3_has_at_least_20_values_of_every_kind() -> None:
    values = [k for r in rows("heldout_v3.jsonl") for k, _ in r["pii"]]
    assert all(values.count(kind) >= 20 for kind in KINDS), {kind: values.count(kind) for kind in KINDS}


@pytest.mark.parametrize(
    ("name", "earlier_sets"),
    [
        ("heldout_v2.jsonl", ["heldout.jsonl", "labelled.jsonl"]),
        ("heldout_v3.jsonl", ["heldout_v2.jsonl", "heldout.jsonl", "labelled.jsonl"]),
    ],
)
def test_a_held_out_set_shares_no_string_and_no_labelled_value_with_earlier_sets(
    name: str, earlier_sets: list[str]
) -> None:
    held = rows(name)
    earlier = [r for e in earlier_sets for r in rows(e)]
    assert not {r["text"] for r in held} & {r["text"] for r in earlier}
    held_values = {v for r in held for _, v in r["pii"]}
    assert not held_values & {v for r in earlier for _, v in r["pii"]}


@pytest.mark.parametrize(
    ("name", "script"),
    [("heldout_v2.jsonl", "make_heldout_v2.py"), ("heldout_v3.jsonl", "make_heldout_v3.py")],
)
def test_a_held_out_set_is_what_its_generator_writes(name: str, script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(FIXTURES / script), "--check"], capture_output=True, check=False
    )
    assert done.returncode == 0, f"{name} differs from {script}: regenerate, do not hand-edit"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


IT_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            2,
            4,
            18,
            20,
            11,
            3,
            6,
            8,
            12,
            14,
            16,
            10,
            22,
            25,
            24,
            23,
        ],
        strict=True,
    )
)


def codice_fiscale_ok(code: str) -> bool:
    total = sum(
        IT_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65) for i, c in enumerate(code[:15])
    )
    return chr(65 + total % 26) == code[15]


NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


@pytest.mark.parametrize("name", ["heldout_v2.jsonl", "heldout_v3.jsonl"])
def test_a_held_out_sets_labels_carry_valid_check_digits(name: str) -> None:
    for row in rows(name):
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
            elif kind == "national_id":
                compact = value.replace(".", "").replace("-", "")
                if re.fullmatch(r"\d{8}[A-Z]", compact):  # Spanish NIF
                    assert NIF_LETTERS[int(compact[:8]) % 23] == compact[-1], value
                elif re.fullmatch(r"[XYZ]\d{7}[A-Z]", compact):  # Spanish NIE: X, Y, Z stand for 0, 1, 2
                    assert (
                        NIF_LETTERS[int(str("XYZ".index(compact[0])) + compact[1:8]) % 23] == compact[-1]
                    ), value
                elif re.fullmatch(r"[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]", value):  # codice fiscale
                    assert codice_fiscale_ok(value), value
