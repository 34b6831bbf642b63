"""The labelled PII sets stay usable: every label occurs in its text, and the held-out sets are big enough,
disjoint from each other and from the tuning set; held-out v2 to v6 are exactly what their generators
write, and their checksummed labels carry valid check digits (independently of the scrubber's own checks)."""

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from vectorrouter.compliance import national_ids

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pii"
KINDS = {"email", "phone", "card", "iban", "national_id", "ip"}
#: Every labelled set, oldest first: each held-out set must share nothing with the ones before it.
SETS_IN_ORDER = ["labelled.jsonl", "heldout.jsonl"] + [f"heldout_v{n}.jsonl" for n in range(2, 20)]


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "name",
    SETS_IN_ORDER,
)
def test_every_label_is_a_substring_of_its_text_and_of_a_known_kind(name: str) -> None:
    labelled = rows(name)
    assert labelled
    for row in labelled:
        for kind, value in row["pii"]:
            assert kind in KINDS, row
            assert value in row["text"], row


@pytest.mark.parametrize(
    ("name", "strings", "look_alikes"),
    [
        ("heldout.jsonl", 200, 50),
        ("heldout_v2.jsonl", 200, 60),
        ("heldout_v3.jsonl", 200, 75),
        ("heldout_v4.jsonl", 260, 90),
        ("heldout_v5.jsonl", 280, 110),
        ("heldout_v6.jsonl", 300, 120),
        ("heldout_v7.jsonl", 300, 120),
        ("heldout_v8.jsonl", 300, 120),
        ("heldout_v9.jsonl", 300, 120),
        ("heldout_v10.jsonl", 300, 120),
        ("heldout_v11.jsonl", 300, 120),
        ("heldout_v12.jsonl", 300, 120),
        ("heldout_v13.jsonl", 300, 120),
        ("heldout_v14.jsonl", 300, 120),
        ("heldout_v15.jsonl", 300, 120),
        ("heldout_v16.jsonl", 300, 120),
        ("heldout_v17.jsonl", 300, 120),
        ("heldout_v18.jsonl", 300, 120),
        ("heldout_v19.jsonl", 300, 120),
    ],
)
def test_a_held_out_set_is_big_enough_with_look_alikes_of_its_own(
    name: str, strings: int, look_alikes: int
) -> None:
    held = rows(name)
    assert len(held) >= strings
    assert sum(1 for r in held if not r["pii"]) >= look_alikes
    assert {k for r in held for k, _ in r["pii"]} == KINDS
    tuned = {r["text"] for r in rows("labelled.jsonl")}
    assert not tuned & {r["text"] for r in held}, "a held-out set must not reuse tuning strings"


@pytest.mark.parametrize(
    ("name", "per_kind"),
    [
        ("heldout_v3.jsonl", 20),
        ("heldout_v4.jsonl", 25),
        ("heldout_v5.jsonl", 25),
        ("heldout_v6.jsonl", 30),
        ("heldout_v7.jsonl", 30),
        ("heldout_v8.jsonl", 30),
        ("heldout_v9.jsonl", 30),
        ("heldout_v10.jsonl", 25),
        ("heldout_v11.jsonl", 30),
        ("heldout_v12.jsonl", 30),
        ("heldout_v13.jsonl", 30),
        ("heldout_v14.jsonl", 30),
        ("heldout_v15.jsonl", 30),
        ("heldout_v16.jsonl", 30),
        ("heldout_v17.jsonl", 30),
        ("heldout_v18.jsonl", 30),
        ("heldout_v19.jsonl", 30),
    ],
)
def test_a_held_out_set_has_enough_values_of_every_kind(name: str, per_kind: int) -> None:
    values = [k for r in rows(name) for k, _ in r["pii"]]
    assert all(values.count(kind) >= per_kind for kind in KINDS), {kind: values.count(kind) for kind in KINDS}


@pytest.mark.parametrize(
    "name",
    # v17's brief asked only for at least 45 multi-value texts; its author made 71% of them so
    [f"heldout_v{n}.jsonl" for n in (*range(4, 17), 18, 19)],
)
def test_a_held_out_set_mixes_in_strings_with_several_values(name: str) -> None:
    with_pii = [r for r in rows(name) if r["pii"]]
    several = sum(1 for r in with_pii if len(r["pii"]) > 1)
    assert 0.15 <= several / len(with_pii) <= 0.3, several / len(with_pii)
    assert all((r["group"] == "lookalike") == (not r["pii"]) for r in rows(name))


@pytest.mark.parametrize(
    ("name", "earlier_sets"),
    [(name, SETS_IN_ORDER[:i]) for i, name in enumerate(SETS_IN_ORDER) if i >= 2],
)
def test_a_held_out_set_shares_no_string_and_no_labelled_value_with_earlier_sets(
    name: str, earlier_sets: list[str]
) -> None:
    held = rows(name)
    earlier = [r for e in earlier_sets for r in rows(e)]
    assert not {r["text"] for r in held} & {r["text"] for r in earlier}
    held_values = {v for r in held for _, v in r["pii"]}
    assert held_values & {v for r in earlier for _, v in r["pii"]} == SHARED_BY_CHANCE.get(name, set())


#: Values a blind author drew independently that an earlier set also holds. Kept as written: the set was scored
#: blind as committed. v9's is an address from RFC 5737's documentation range, also in the tuning set; v16's a
#: common first-name-last-name mailbox at a common provider.
SHARED_BY_CHANCE = {"heldout_v9.jsonl": {"198.51.100.7"}, "heldout_v16.jsonl": {"lucia.fernandez@hotmail.es"}}


@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("heldout_v2.jsonl", "make_heldout_v2.py"),
        ("heldout_v3.jsonl", "make_heldout_v3.py"),
        ("heldout_v4.jsonl", "make_heldout_v4.py"),
        ("heldout_v5.jsonl", "make_heldout_v5.py"),
        ("heldout_v6.jsonl", "make_heldout_v6.py"),
        ("heldout_v7.jsonl", "make_heldout_v7.py"),
        ("heldout_v8.jsonl", "make_heldout_v8.py"),
        ("heldout_v9.jsonl", "make_heldout_v9.py"),
        ("heldout_v10.jsonl", "make_heldout_v10.py"),
        ("heldout_v11.jsonl", "make_heldout_v11.py"),
        ("heldout_v12.jsonl", "make_heldout_v12.py"),
        ("heldout_v13.jsonl", "make_heldout_v13.py"),
        ("heldout_v14.jsonl", "make_heldout_v14.py"),
        ("heldout_v15.jsonl", "make_heldout_v15.py"),
        ("heldout_v16.jsonl", "make_heldout_v16.py"),
        ("heldout_v17.jsonl", "make_heldout_v17.py"),
        ("heldout_v18.jsonl", "make_heldout_v18.py"),
        ("heldout_v19.jsonl", "make_heldout_v19.py"),
    ],
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


@pytest.mark.parametrize(
    "name",
    SETS_IN_ORDER[2:],
)
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
                    assert codice_fiscale_ok(value) or value in CHECK_FAILS.get(name, set()), value


NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"  # never D, F, I, Q, U, V
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"  # nor O in second place
NINO_UNUSED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def pesel_ok(code: str) -> bool:
    """A Polish PESEL: a real birth date (the month carries the century) and the weighted check digit."""
    weighted = sum(int(d) * w for d, w in zip(code[:10], [1, 3, 7, 9] * 3, strict=False))
    month = int(code[2:4]) - 1
    century = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}.get(month // 20)
    if century is None or (10 - weighted % 10) % 10 != int(code[10]):
        return False
    try:
        date(century + int(code[:2]), month % 20 + 1, int(code[4:6]))
    except ValueError:
        return False
    return True


def national_id_schemes(value: str) -> set[str]:
    """Every scheme a national id follows in full (check digits, never-issued ranges, real dates)."""
    compact = re.sub(r"[ .-]", "", value).upper()
    schemes: set[str] = set()
    if re.fullmatch(r"\d{9}", compact):  # US SSN: never area 000, 666 or 9xx, group 00 or serial 0000
        area, group, serial = compact[:3], compact[3:5], compact[5:]
        issued = area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"
        if issued and re.fullmatch(r"\d{3}([- ]?)\d{2}\1\d{4}", value):
            schemes.add("ssn")
        weighted = sum(int(d) * w for d, w in zip(compact, [9, 8, 7, 6, 5, 4, 3, 2, -1], strict=True))
        if weighted % 11 == 0 and int(compact) and re.fullmatch(r"\d{9}|\d{4}\.\d{2}\.\d{3}", value):
            schemes.add("bsn")  # Dutch BSN: the elfproef
    if re.fullmatch(r"\d{11}", value) and pesel_ok(value):
        schemes.add("pesel")
    if re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", compact):  # UK NINO
        prefix = compact[:2]
        if prefix[0] in NINO_FIRST and prefix[1] in NINO_SECOND and prefix not in NINO_UNUSED:
            schemes.add("nino")
    if re.fullmatch(r"\d{8}[A-Z]", compact) and NIF_LETTERS[int(compact[:8]) % 23] == compact[-1]:
        schemes.add("nif")  # Spanish DNI/NIF
    if (
        re.fullmatch(r"[XYZ]\d{7}[A-Z]", compact)
        and NIF_LETTERS[int(str("XYZ".index(compact[0])) + compact[1:8]) % 23] == compact[-1]
    ):
        schemes.add("nie")  # Spanish NIE
    if re.fullmatch(r"[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]", compact) and codice_fiscale_ok(compact):
        schemes.add("codice_fiscale")
    # the schemes held-out v13 brought, by the library's check rules (the set's author checked them with their
    # own code, so this also tests those rules against an independent writer's values)
    schemes |= {name for name, check in MORE_SCHEMES.items() if check(value)}
    return schemes


MORE_SCHEMES = {
    "se": national_ids.se_personnummer,
    "dk": lambda v: national_ids.dk_cpr(v, mod11=True),
    # from v16 on, briefs counted any CPR with a real birth date (numbers issued since 2007 need not pass mod 11)
    "dk_date": national_ids.dk_cpr,
    "no": national_ids.no_fodselsnummer,
    "fi": national_ids.fi_hetu,
    "be": national_ids.be_national_number,
    "pt": national_ids.pt_nif,
    "fr": national_ids.fr_nir,
    "br": national_ids.br_cpf,
    "in": national_ids.in_aadhaar,
}


FIVE_SCHEMES = {"ssn", "nino", "nif", "nie", "codice_fiscale"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("heldout_v4.jsonl", FIVE_SCHEMES),
        ("heldout_v5.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v6.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v7.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v8.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v9.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v10.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v11.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        ("heldout_v12.jsonl", FIVE_SCHEMES | {"pesel", "bsn"}),
        (
            "heldout_v13.jsonl",
            FIVE_SCHEMES | {"pesel", "bsn"} | {"se", "dk", "dk_date", "no", "fi", "be", "pt", "br", "in"},
        ),
        ("heldout_v14.jsonl", FIVE_SCHEMES | {"pesel", "bsn"} | set(MORE_SCHEMES)),
        ("heldout_v15.jsonl", {"ssn", "nino", "codice_fiscale", "pesel", "bsn"} | set(MORE_SCHEMES)),
        ("heldout_v16.jsonl", FIVE_SCHEMES | {"pesel", "bsn"} | set(MORE_SCHEMES) - {"in"}),
        ("heldout_v17.jsonl", FIVE_SCHEMES | {"pesel", "bsn"} | set(MORE_SCHEMES)),
        ("heldout_v18.jsonl", {"ssn", "nino", "nif", "nie", "pesel"} | set(MORE_SCHEMES) - {"fr"}),
        ("heldout_v19.jsonl", FIVE_SCHEMES | {"pesel", "bsn"} | set(MORE_SCHEMES) - {"dk"}),
    ],
)
def test_a_held_out_sets_national_ids_follow_its_schemes(name: str, expected: set[str]) -> None:
    schemes = [
        (value, national_id_schemes(value) & expected)
        for r in rows(name)
        for kind, value in r["pii"]
        if kind == "national_id"
    ]
    failing = {value for value, scheme in schemes if not scheme}
    assert failing == CHECK_FAILS.get(name, set())
    assert set().union(*(scheme for _, scheme in schemes)) == expected


#: Labelled national ids that fail their own scheme's check, kept as the blind author wrote them (the set was
#: scored blind as committed). v15's author typed Verhoeff's p^4 row with two entries swapped, so one of its
#: Aadhaar labels fails the check computed from the permutation (as did v14's correct one under an earlier copy
#: of ours with a different swap: the disagreement found both).
#: v18's author computed the codice fiscale's check character wrongly for three of them (our rule and this
#: test's own independent one agree).
CHECK_FAILS = {
    "heldout_v15.jsonl": {"5198 3598 6007"},
    "heldout_v18.jsonl": {"VDPGCF45B63H501P", "BTZZTT88R01G273S", "CHMCBC93L02F205A"},
}


IBAN_LENGTHS = {"AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22}
IBAN_LENGTHS |= {"IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24}
IBAN_LENGTHS |= {"CZ": 24, "TR": 26, "GR": 27, "HU": 28, "RO": 24, "BR": 29, "HR": 21, "MT": 31}
IBAN_LENGTHS |= {"AD": 24, "AE": 23, "CY": 28, "FO": 18, "IL": 23, "KW": 30, "LI": 21, "LT": 20, "MU": 30}
IBAN_LENGTHS |= {"QA": 29, "SI": 19, "SK": 24, "SM": 27, "AZ": 28, "BH": 22, "GE": 22, "GI": 23, "IS": 26}
IBAN_LENGTHS |= {"LB": 28, "MK": 19, "PK": 24, "UA": 29, "BG": 22, "LV": 21, "IR": 26, "EE": 20, "EG": 29}
IBAN_LENGTHS |= {"GT": 28, "KZ": 20, "ME": 22, "MR": 27, "PS": 29, "RS": 22, "SA": 24}


@pytest.mark.parametrize(
    ("name", "countries"),
    [
        ("heldout_v5.jsonl", 10),
        ("heldout_v6.jsonl", 12),
        ("heldout_v7.jsonl", 12),
        ("heldout_v8.jsonl", 12),
        ("heldout_v9.jsonl", 15),
        ("heldout_v10.jsonl", 15),
        ("heldout_v11.jsonl", 15),
        ("heldout_v12.jsonl", 14),
        ("heldout_v13.jsonl", 25),
        ("heldout_v14.jsonl", 25),
        ("heldout_v15.jsonl", 25),
        ("heldout_v16.jsonl", 25),
        ("heldout_v17.jsonl", 15),
        ("heldout_v18.jsonl", 25),
        ("heldout_v19.jsonl", 20),
    ],
)
def test_a_held_out_sets_ibans_come_from_enough_countries_at_their_length(name: str, countries: int) -> None:
    ibans = [value.replace(" ", "").upper() for r in rows(name) for kind, value in r["pii"] if kind == "iban"]
    assert all(IBAN_LENGTHS.get(code[:2]) == len(code) for code in ibans), ibans
    assert len({code[:2] for code in ibans}) >= countries
