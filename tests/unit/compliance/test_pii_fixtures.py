"""The labelled PII sets stay usable: every label occurs in its text, and the held-out set is big enough."""

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pii"
KINDS = {"email", "phone", "card", "iban", "national_id", "ip"}


@pytest.mark.parametrize("name", ["labelled.jsonl", "heldout.jsonl"])
def test_every_label_is_a_substring_of_its_text_and_of_a_known_kind(name: str) -> None:
    rows = [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]
    assert rows
    for row in rows:
        for kind, value in row["pii"]:
            assert kind in KINDS, row
            assert value in row["text"], row


def test_the_held_out_set_has_200_strings_with_look_alikes_of_its_own() -> None:
    held = [json.loads(x) for x in (FIXTURES / "heldout.jsonl").read_text().splitlines() if x.strip()]
    tuned = {
        json.loads(x)["text"] for x in (FIXTURES / "labelled.jsonl").read_text().splitlines() if x.strip()
    }
    assert len(held) >= 200
    assert sum(1 for r in held if not r["pii"]) >= 50
    assert {k for r in held for k, _ in r["pii"]} == KINDS
    assert not tuned & {r["text"] for r in held}, "the held-out set must not reuse tuning strings"
