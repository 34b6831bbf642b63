"""Check rules of national identity numbers, each from its published definition.

Every function takes the number as written (separators allowed) and says whether it is a number the scheme
could have issued: the right length, a real date of birth where the scheme encodes one, and the right check
digit(s). They decide nothing about context; the recognizers in :mod:`vectorrouter.compliance.pii` do.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "be_national_number",
    "br_cpf",
    "dk_cpr",
    "fi_hetu",
    "fr_nir",
    "in_aadhaar",
    "luhn",
    "no_fodselsnummer",
    "pt_nif",
    "se_personnummer",
    "verhoeff",
]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _date(day: int, month: int, yy: int, centuries: tuple[int, ...] = (1900, 2000)) -> bool:
    """Whether day/month/two-digit year is a calendar date in one of ``centuries``."""
    for century in centuries:
        try:
            dt.date(century + yy, month, day)
        except ValueError:
            continue
        return True
    return False


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check, as payment cards, IMEIs and Swedish personnummer use it."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def se_personnummer(value: str) -> bool:
    """Swedish personnummer (Skatteverket): [CC]YYMMDD-NNNC, Luhn over the ten digits YYMMDDNNNC.

    A samordningsnummer adds 60 to the day."""
    d = _digits(value)
    if len(d) == 12:
        if d[:2] not in ("18", "19", "20"):
            return False
        d = d[2:]
    if len(d) != 10:
        return False
    day = int(d[4:6])
    day = day - 60 if day > 60 else day
    return _date(day, int(d[2:4]), int(d[:2]), (1800, 1900, 2000)) and luhn(d)


def dk_cpr(value: str, *, mod11: bool = False) -> bool:
    """Danish CPR number: DDMMYY-SSSS. Numbers issued since 2007 need not pass the old modulus-11 test, so it is
    only required with ``mod11``."""
    d = _digits(value)
    if len(d) != 10 or not _date(int(d[:2]), int(d[2:4]), int(d[4:6]), (1800, 1900, 2000)):
        return False
    if not mod11:
        return True
    return sum(int(c) * w for c, w in zip(d, (4, 3, 2, 7, 6, 5, 4, 3, 2, 1), strict=True)) % 11 == 0


def no_fodselsnummer(value: str) -> bool:
    """Norwegian fødselsnummer (Skatteetaten): DDMMYY IIIKK, two modulus-11 check digits.

    A D-number adds 40 to the day, an H-number 40 to the month."""
    d = _digits(value)
    if len(d) != 11:
        return False
    day, month = int(d[:2]), int(d[2:4])
    day = day - 40 if day > 40 else day
    month = month - 40 if month > 40 else month
    if not _date(day, month, int(d[4:6]), (1800, 1900, 2000)):
        return False
    k1 = 11 - sum(int(c) * w for c, w in zip(d[:9], (3, 7, 6, 1, 8, 9, 4, 5, 2), strict=True)) % 11
    k2 = 11 - sum(int(c) * w for c, w in zip(d[:10], (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    k1, k2 = (0 if k == 11 else k for k in (k1, k2))
    return k1 < 10 and k2 < 10 and (k1, k2) == (int(d[9]), int(d[10]))


_HETU = re.compile(r"(\d{2})(\d{2})(\d{2})([-+A-FU-Y])(\d{3})([0-9A-Y])")
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {
    "+": 1800,
    "-": 1900,
    "A": 2000,
    **dict.fromkeys("BCDEF", 2000),
    **dict.fromkeys("UVWXY", 1900),
}


def fi_hetu(value: str) -> bool:
    """Finnish henkilötunnus (DVV): DDMMYY, a century sign, an individual number and a check character, the
    remainder of DDMMYYNNN divided by 31 looked up in 0-9A-Y without G, I, O, Q and Z."""
    m = _HETU.fullmatch(value.strip().upper())
    if m is None:
        return False
    day, month, yy, sign, serial, check = m.groups()
    if not _date(int(day), int(month), int(yy), (_HETU_CENTURY[sign],)) or int(serial) < 2:
        return False
    return _HETU_CHECK[int(day + month + yy + serial) % 31] == check


def be_national_number(value: str) -> bool:
    """Belgian national register number (Rijksregisternummer / numéro national): YY.MM.DD-SSS.CC, the check
    97 minus the first nine digits modulo 97 (with a 2 put before them for births from 2000 on).

    The month may be 0 (date unknown) or raised by 20 or 40 (bis numbers)."""
    d = _digits(value)
    if len(d) != 11 or int(d[2:4]) % 20 > 12 or int(d[4:6]) > 31:
        return False
    check = int(d[9:])
    return check in (97 - int(d[:9]) % 97, 97 - int("2" + d[:9]) % 97)


def pt_nif(value: str) -> bool:
    """Portuguese NIF of a person (first digit 1-3): nine digits, the last a modulus-11 check (10 and 11 → 0).
    Companies' numbers (5-9) are not personal and do not count."""
    d = _digits(value)
    if len(d) != 9 or d[0] not in "123":
        return False
    check = 11 - sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) % 11
    return (0 if check >= 10 else check) == int(d[8])


def fr_nir(value: str) -> bool:
    """French NIR (numéro de sécurité sociale): sex, YY, MM, département (2A/2B for Corsica), commune, order
    number, then a key of 97 minus the thirteen-digit number modulo 97."""
    compact = re.sub(r"[\s.-]", "", value).upper()
    m = re.fullmatch(r"([1-478])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})", compact)
    if m is None:
        return False
    month = int(m.group(3))
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    body = compact[:13].replace("2A", "19").replace("2B", "18")
    return 97 - int(body) % 97 == int(m.group(7))


def br_cpf(value: str) -> bool:
    """Brazilian CPF: nine digits and two modulus-11 check digits; eleven equal digits are no number."""
    d = _digits(value)
    if len(d) != 11 or len(set(d)) == 1:
        return False
    for n in (9, 10):
        total = sum(int(c) * w for c, w in zip(d[:n], range(n + 1, 1, -1), strict=True))
        if (total * 10) % 11 % 10 != int(d[n]):
            return False
    return True


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
#: The permutation's powers, p^0..p^7, computed rather than typed: a typed table is easy to get wrong and wrong
#: in a way that still passes the textbook example (an earlier copy swapped two entries of p^4).
_VERHOEFF_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_VERHOEFF_P: tuple[tuple[int, ...], ...] = (tuple(range(10)),)
for _ in range(7):
    _VERHOEFF_P += (tuple(_VERHOEFF_P1[x] for x in _VERHOEFF_P[-1]),)


def verhoeff(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def in_aadhaar(value: str) -> bool:
    """Indian Aadhaar number (UIDAI): twelve digits, the first 2-9, the last a Verhoeff check digit."""
    d = _digits(value)
    return len(d) == 12 and d[0] in "23456789" and verhoeff(d)
