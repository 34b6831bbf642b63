"""The PII scrubber: targets on the labelled set, redaction on the ingest path, offline, NER only if configured."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.compliance.compliance_setup import SECRET, Setup, build

from vectorrouter.compliance import Compliance, Keyring, MetadataAllowlist, NamespacePolicy, PiiScrubber
from vectorrouter.compliance.pii import STRUCTURED
from vectorrouter.compliance.pii_eval import evaluate, load_labelled
from vectorrouter.errors import ConfigurationError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "labelled.jsonl"


@pytest.fixture(scope="module")
def scrubber() -> PiiScrubber:
    return PiiScrubber()


def test_labelled_set_meets_the_recall_and_precision_targets(scrubber: PiiScrubber) -> None:
    rows = load_labelled(FIXTURE)
    assert len(rows) >= 200
    assert {k for r in rows for k, _ in r["pii"]} == set(STRUCTURED)
    result = evaluate(rows, scrubber.detect, scrubber.redact)
    structured = result.total(STRUCTURED)
    assert structured.recall >= 0.98, result.as_dict()
    assert result.total().precision >= 0.95, result.false_positives
    assert result.leaks == []


@pytest.mark.parametrize(
    "text",
    [
        "Order #4155552671 shipped",
        "ISBN 978-3-16-148410-0",
        "v2.14.3",
        "2024-03-15",
        "card 4111 1111 1111 1112",
    ],
)
def test_look_alikes_survive_unchanged(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


def test_redaction_replaces_each_value_with_its_kind(scrubber: PiiScrubber) -> None:
    text = "mail jane.doe@example.org, card 4111 1111 1111 1111, from 203.0.113.42"
    assert scrubber.redact(text) == "mail <email>, card <card>, from <ip>"


def test_detection_makes_no_network_call(scrubber: PiiScrubber, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scrubber tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    fresh = PiiScrubber(kinds=["email"])
    assert [s.kind for s in fresh.detect("write to omar.haddad@mail.example.co.uk")] == ["email"]


def test_strings_holding_pii_are_not_memoised(scrubber: PiiScrubber) -> None:
    scrubber.detect("ticket 42 is closed")
    scrubber.detect("call +44 20 7946 0958")
    assert "ticket 42 is closed" in scrubber._clean
    assert not any("7946" in s for s in scrubber._clean)


@pytest.fixture
def scrubbing(scrubber: PiiScrubber) -> Iterator[Setup]:
    s = build(
        scrubber=scrubber,
        allowlist=MetadataAllowlist({"*": NamespacePolicy({"note", "contact", "refs"})}),
    )
    yield s
    s.compliance.close()


def test_metadata_values_are_scrubbed_before_any_store_sees_them(scrubbing: Setup) -> None:
    scrubbing.router.ingest(
        "acme:tickets",
        [
            {
                "id": "t-1",
                "text": "customer asks about a refund",
                "metadata": {
                    "user_id": "jane.doe@example.org",  # a user reference: keyed, never scrubbed
                    "note": "call back on +44 20 7946 0958",
                    "contact": 4111111111111111,
                    "refs": ["ORD-2024-118734", "jane.doe@example.org"],
                },
            }
        ],
    )
    stored = next(r for b in scrubbing.keyword.scroll("acme:tickets:h32") for r in b).metadata
    assert stored["note"] == "call back on <phone>"
    assert stored["contact"] == "<card>"
    assert stored["refs"] == ["ORD-2024-118734", "<email>"]
    assert str(stored["user_id"]).startswith("k1:")
    assert scrubbing.router.count("acme:tickets", {"user_id": "jane.doe@example.org"}) == 1
    assert scrubbing.router.forget("jane.doe@example.org").ok


def test_text_is_scrubbed_only_when_configured(scrubber: PiiScrubber) -> None:
    text_scrubber = PiiScrubber(scrub_text=True)
    for s, expected in ((scrubber, "mail jane.doe@example.org"), (text_scrubber, "mail <email>")):
        setup = build(scrubber=s)
        setup.router.ingest("acme:docs", [{"id": "d", "text": "mail jane.doe@example.org"}])
        assert setup.router.get("acme:docs", ["d"])[0].text == expected
        setup.compliance.close()


def test_names_need_a_configured_ner_model() -> None:
    with pytest.raises(ConfigurationError, match="needs an NER model"):
        PiiScrubber(kinds=["email", "name"])
    with pytest.raises(ConfigurationError, match="neither an installed spaCy pipeline"):
        PiiScrubber(ner="xx_no_such_pipeline")


def test_names_are_redacted_by_a_configured_spacy_pipeline() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": [{"LOWER": "ada"}, {"LOWER": "lovelace"}]}])
    s = PiiScrubber(ner=nlp)
    assert "name" in s.kinds
    assert s.redact("notes by Ada Lovelace, ada@example.org") == "notes by <name>, <email>"


def test_compliance_never_scrubs_its_user_reference_fields(scrubber: PiiScrubber) -> None:
    c = Compliance(
        keyring=Keyring({"k1": SECRET}),
        allowlist=MetadataAllowlist({"*": NamespacePolicy(set())}),
        scrubber=PiiScrubber(kinds=["email"]),
        user_fields=["owner"],
    )
    assert c.scrubber is not None
    assert "owner" in c.scrubber.skip_fields
    c.close()


@pytest.mark.parametrize(
    "number",
    [
        "3056 9309 0259 04",  # Diners Club International, 14 digits, grouped in fours
        "4222 2222 2222 2",  # Visa, 13 digits
        "3782-822463-10005",  # American Express, 4-6-5
        "6759 6498 2643 8453",  # Maestro
        "2223 0000 4841 0010",  # Mastercard 2-series
    ],
)
def test_cards_are_found_by_issuer_range_in_any_grouping(scrubber: PiiScrubber, number: str) -> None:
    assert [s.kind for s in scrubber.detect(f"paid with {number} today")] == ["card"]


@pytest.mark.parametrize(
    "text",
    [
        "ref 9111 1111 1111 1115",  # Luhn-valid, but 9 is no card network's issuer range
        "ref 4222 2222 2222 22",  # Visa range and Luhn-valid, but Visa issues no 14-digit numbers
        "ref 4222 2222 2222 3",  # Visa length, Luhn fails
    ],
)
def test_card_candidates_outside_an_issuer_range_length_or_luhn_are_left(
    scrubber: PiiScrubber, text: str
) -> None:
    assert [s.kind for s in scrubber.detect(text) if s.kind == "card"] == []


def test_possible_numbers_count_when_written_as_phone_numbers(scrubber: PiiScrubber) -> None:
    # Ofcom's 07700 900xxx block is reserved, so libphonenumber calls it invalid; written +44 it is a phone
    assert [s.kind for s in scrubber.detect("ring +44 7700 900456 after six")] == ["phone"]
    assert [s.kind for s in scrubber.detect("mobile: 07700 900456")] == ["phone"]
    assert scrubber.detect("build 0xC0000005 crashed") == []


@pytest.mark.parametrize(
    "text",
    [
        "deployed v10.2.0.1 to staging",
        "kernel version 5.15.0.91 is affected",
        "see section 3.2.1.4 for details",
        "as Figure 3.2.1.4 shows",
        "see table 1.2.3.4",
        "sysObjectID 1.3.6.1.4.1.2620.1.1 answered",  # four groups of an OID are not an IP
        "Termin am 07.12.2026 um 10:00",  # dates with dots or slashes are not phone numbers
        "Datum: 31.01.26",
        "due 12/31/2026",
        "doi:10.1016/j.cell.2020.01.001",  # digits inside a longer token
        "https://example.org/files/2020.01.0017654",
        "ISBN 0-306-40615-2",
        "cited as 0-19-852663-6",  # ISBN-10 hyphenation, check digit alone at the end
    ],
)
def test_versions_clauses_and_isbns_are_not_ips_or_phones(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Tel.+49 30 1234567",  # glued to an abbreviated phone word
        "Tel.030 12345678",
        "phone 06.12.34.56.78",  # dotted, but five groups: not a date
        "call 0044 20 7946 0958",
        "mobile 07.12.2026.55",
    ],
)
def test_phones_beside_those_look_alikes_are_still_found(scrubber: PiiScrubber, text: str) -> None:
    assert [s.kind for s in scrubber.detect(text)] == ["phone"]


def test_an_ip_after_a_non_version_word_is_still_found(scrubber: PiiScrubber) -> None:
    assert [s.kind for s in scrubber.detect("login from 10.2.0.1 failed")] == ["ip"]
    # a sentence's full stop or a port after the address is not a fifth group
    assert scrubber.redact("host 10.0.0.1. Next") == "host <ip>. Next"
    assert scrubber.redact("from 10.0.0.1:8080") == "from <ip>:8080"


# -- national ids beyond presidio's defaults, punctuated forms, and look-alikes from invoices and logs -----
@pytest.mark.parametrize(
    "text",
    [
        "PESEL: 02070803628",  # the check digit by weights 1-3-7-9
        "BSN 123456782",  # the Dutch elfproef
        "NIE X1234567L",  # presidio's NIE recognizer, on by default now
        "NIE X-1234567-L",  # and the punctuated forms presidio's patterns do not take
        "DNI 12.345.678-Z",
    ],
)
def test_more_national_ids_are_found_with_their_check_digits(scrubber: PiiScrubber, text: str) -> None:
    assert [s.kind for s in scrubber.detect(text)] == ["national_id"]


@pytest.mark.parametrize(
    "text",
    [
        "nr 02070803628",  # a valid PESEL, but nothing names the scheme: one random number in ten passes
        "klantnummer 123456782",  # a valid BSN without its name
        "BSN 123456781",  # named, but the elfproef fails
        "DNI 12.345.678-A",  # the wrong mod-23 letter
    ],
)
def test_check_digit_ids_need_their_name_and_a_valid_check(scrubber: PiiScrubber, text: str) -> None:
    assert [s for s in scrubber.detect(text) if s.kind == "national_id"] == []


@pytest.mark.parametrize(
    "text",
    [
        "Rechnung Nr. 0301234567",  # reference cues in the default regions' languages
        "Artikel-Nr. 043.2696.1916.05",
        "commande 0612345678",
        "Número de pedido 360.432.632",
        "INV-2024-0301234567",  # the tail of a reference code
    ],
)
def test_reference_numbers_in_other_languages_are_not_phones(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


def test_a_phone_is_never_a_card_or_an_ip_is_never_a_phone(scrubber: PiiScrubber) -> None:
    # 4915147666510 passes Luhn in a Visa length, but '+' makes it a phone number
    assert [s.kind for s in scrubber.detect("Tel. +49 151 47666510")] == ["phone"]
    assert [s.kind for s in scrubber.detect("ping 192.168.10.20")] == ["ip"]
    assert [s.kind for s in scrubber.detect("call 02.123.45.67")] == ["phone"]  # a leading zero: not an IP
    # a host named fw-... is not the firmware cue that makes a dotted quad a version number
    assert [s.kind for s in scrubber.detect("host fw-edge-01 saw 203.0.113.9")] == ["ip"]


def test_an_address_in_a_file_name_is_found_without_its_extension(scrubber: PiiScrubber) -> None:
    assert scrubber.redact("saved as anna.berg@example.se.pdf") == "saved as <email>.pdf"
    assert scrubber.redact("left-pad@1.3.0.tgz") == "left-pad@1.3.0.tgz"  # a package, not a mailbox


def test_an_address_under_a_top_level_domain_missing_from_the_bundled_list_counts(
    scrubber: PiiScrubber,
) -> None:
    assert scrubber.redact("write to ana@studio.example") == "write to <email>"
    assert scrubber.redact("see pkg@2.4.1 and @media print") == "see pkg@2.4.1 and @media print"


# -- machine numbers, references and national forms -----------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"ts": "1726278046.037876"}',  # a decimal: the digits after the point belong to it
        "created_at_unix: 1741471057",
        "Date:   Wed May 15 09:32:15 2024 -0500",  # a clock's seconds, the year and the offset
        "Kundennummer: 7981262096",  # compounds of -nummer and -konto, claims
        "Vertragskonto 788 376 3187",
        "Sinistro 16449073",
        "id 0227060543",  # a bare digit run with no phone word before it
        "Payroll!C15: 925-49-6004",  # SSN area 9xx was never issued
        "Payroll!C16: 664-29-0000",  # SSN-shaped with serial 0000: not an SSN, and 3-2-4 is not a phone
        "Codice fiscale: RSSMRA85T10A562A",  # the wrong check character, even after its name
        "siehe Abschnitt 3.1.13.8",  # section words in the other languages
        "attributeType ( 2.5.4.23 NAME 'ou' )",  # an LDAP schema OID
    ],
)
def test_machine_numbers_and_references_are_left_alone(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Social security number : 837018146", "Social security number : <national_id>"),
        ("Codice fiscale RSS MRA 85T10 A562S", "Codice fiscale <national_id>"),
        ("DNI 48151623 L", "DNI <national_id>"),
        ("IBAN :  DE89  3704 0044 0532 0130 00", "IBAN :  <iban>"),  # OCR spacing
        ("81784,card,4532 0151 1283 0366,298.44", "81784,card,<card>,298.44"),  # a CSV field
        ("llame al 716386757", "llame al <phone>"),  # 'call' in Spanish
        ("Rückrufnummer +49 171 5742660", "Rückrufnummer <phone>"),  # -nummer, but a phone's
    ],
)
def test_values_in_their_national_and_tabular_forms_are_found(
    scrubber: PiiScrubber, text: str, redacted: str
) -> None:
    assert scrubber.redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        '"Mozilla/5.0 (X11) Chrome/124.0.0.0 Safari/537.36"',  # a product's version in a user agent
        "Kasse 02   14.08.2024 16:57",  # a date and time inside the digits a phone matcher took
        "[22-07-2024 21:49:38] Lotte: hoi",
        "Kassenzeichen 0213 4307 2037",  # payment and register references
        "NIP 818-309-98-48",
        "Número de apólice 0744.716398.81",
    ],
)
def test_versions_dates_and_register_numbers_are_left_alone(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("BSN: 1112.22.333", "BSN: <national_id>"),  # a BSN as Dutch payslips group it
        ("Codice fiscale RSS MRA 85T10 A562 S", "Codice fiscale <national_id>"),
        ("vorkasse auf at611904300234573201", "vorkasse auf <iban>"),  # lower case, no spaces
        ("iban: ch93 0076 2011 6238 5295 7", "iban: <iban>"),
        ("[client 82.59.35.150:58188] AH01630", "[client <ip>:58188] AH01630"),  # 'client' cues no reference
        ("GET /s?mail=ana.lopez%40gmail.com&x=1", "GET /s?mail=<email>&x=1"),  # URL-encoded
        ("terugbelnummer 0612345678", "terugbelnummer <phone>"),  # a call-back number, not a reference
    ],
)
def test_grouped_lower_case_and_encoded_values_are_found(
    scrubber: PiiScrubber, text: str, redacted: str
) -> None:
    assert scrubber.redact(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "netmask 255.255.248.0 mtu 1500",  # masks have contiguous bits: not a host
        "wildcard 0.0.0.63",
        "assets/logo@3x.webp",  # an image at 3x, and a Go module at a version
        "golang.org/x/net@v0.30.0/http2",
        "IBAN DE00 4532 0151 1283 0366 00",  # a Luhn-valid run inside a (broken) account number is no card
        "Group 0074412",  # '00' opens an international number only with a whole number after it
        "net.ipv4.ip_local_port_range = 32768 60999",  # a setting's value
        "snmpwalk -v2c 1.3.6.1.2.1.2.2.1.10",  # an OID, not a dotted phone number
        "N° de sinistre 2025-SIN-0081174",
    ],
)
def test_masks_assets_settings_and_oids_are_left_alone(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.redact(text) == text


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("ip address 10.20.30.40 255.255.255.0", "ip address <ip> 255.255.255.0"),
        ('SUPPORT_PHONE="+44 20 7946 0958"', 'SUPPORT_PHONE="<phone>"'),
        ("Numer konta: PL6110 901014 000007 121981 2874", "Numer konta: <iban>"),  # grouped as printed in PL
        ("RIB : FR142 00 410 10 050500 01 3M026 06", "RIB : <iban>"),
        (
            "| Lp. | PESEL |\n| 1 | 02070803628 |",
            "| Lp. | PESEL |\n| 1 | <national_id> |",
        ),  # named in the header
        ("Contacto: 912 345 678", "Contacto: <phone>"),
        ("Dzwoniłam na 22 617 70 59 dwa razy", "Dzwoniłam na <phone> dwa razy"),
    ],
)
def test_hosts_settings_accounts_and_table_ids_are_found(
    scrubber: PiiScrubber, text: str, redacted: str
) -> None:
    assert scrubber.redact(text) == redacted


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # a SIP URI's user part written as a telephone number is that phone, not a mailbox
        ("INVITE sip:+441632960123@pbx.example.org SIP/2.0", "phone", "+441632960123"),
        # 'git' is the SSH user of a remote only when a path follows; elsewhere it is a mailbox like any other
        ("questions to git@example.com today", "email", "git@example.com"),
        ("sent to ann@example.com", "email", "ann@example.com"),
        # a host:port after a VPN user name is an address (a product/version pair never carries a port)
        ("openvpn[311]: alice/198.51.100.23:1194 TLS: Initial packet", "ip", "198.51.100.23"),
        # 00 is how most of the world dials out: the number after it is international
        ("Ihr Code wurde an 0044 20 7946 0958 gesendet", "phone", "0044 20 7946 0958"),
        ("contacto: telemóvel 912 345 678", "phone", "912 345 678"),
        # an IBAN with its country code set apart, and national groups longer than four characters
        ("Konto PL 61 1090 1014 0000 0712 1981 2874 den 25:e", "iban", "PL 61 1090 1014 0000 0712 1981 2874"),
        ("sul conto IT 60 X 05428 11101 000000123456 il 15", "iban", "IT 60 X 05428 11101 000000123456"),
        ("Amex 378282246310005 on file", "card", "378282246310005"),
    ],
)
def test_values_written_in_protocol_and_national_forms_are_found_exactly(
    scrubber: PiiScrubber, text: str, kind: str, value: str
) -> None:
    found = [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)]
    assert found == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "git clone git@bitbucket.org:team/repo.git",
        "remote: ssh://git@code.example.com:7999/ops/dns.git",
        "Código enviado a a***@example.com",
        "User-Agent: Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36",
        "zie artikel 3.1.2.4 van de regeling",
        "Lieferort 52.370216, 4.895168",
        "Y-tunnus 1572860-0",
        "Company No. 04711234 · VAT Reg. GB 123 4567 89",
        "Account number 12-34567-890 (water)",
        "crash report imei=490154203237518 os=14",
    ],
)
def test_remotes_masks_versions_clauses_coordinates_registers_and_imeis_are_left(
    scrubber: PiiScrubber, text: str
) -> None:
    assert scrubber.detect(text) == []


def test_evaluation_lists_each_false_positive_and_each_miss_once() -> None:
    from vectorrouter.compliance.pii import PiiSpan

    rows = [
        {"text": "mail a@example.com or call 555", "pii": [["email", "a@example.com"], ["phone", "555"]]},
        {"text": "order 42", "pii": []},
    ]

    def detect(text: str) -> list[PiiSpan]:
        return (
            [PiiSpan("email", 5, 18, 1.0, "EMAIL_ADDRESS")]
            if "mail" in text
            else [PiiSpan("phone", 6, 8, 0.5, "PHONE_NUMBER")]
        )

    result = evaluate(rows, detect)
    assert result.misses == ["phone: '555' in 'mail a@example.com or call 555'"]
    assert result.false_positives == ["phone: '42' in 'order 42'"]
    assert (result.kinds["email"].tp, result.kinds["phone"].fp, result.kinds["phone"].fn) == (1, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        # an ISO date glued to its time, after a phone word ('kontakt', 'call')
        "letzter Kontakt 2025-03-14T09:26:53.589Z, Status OK",
        "call logged 1999-12-31T23:59:01Z",
        # a browser-style release: no numbering plan groups a single digit between dots
        "Browser 117.0.5751.90 crashed twice",
        "rolled out 112.0.4203.66 to the fleet",
        # the digits of a part number that goes on past them
        "Spare 93-1791-174-A, qty 2",
        "Bauteil 69-8424-470-C im Lager",
        # CAS registry numbers: the last digit checks the others
        "Reagenz 620528-87-2 geliefert",
        "sample of 360494-23-1, 0.5 mg/L",
        # dotted groups no numbering plan prints (a four-part release), with no trunk 0 before them
        "Value: 8.13.335.6525",
        "created 17.20.544.6789 by job",
        # no trunk 0 and a length only plans with one use, and no phone word
        "created 4985-5992 by job",
        "16-92-24 21534105",
        # a UK sort code and account number: no card is printed in groups of two
        "id=57-25-57 84948772",
        # EAN-13 barcodes whose digits also pass Luhn, and one after its own name
        "id=6635651457589",
        "Value: 6740764165655",
        "EAN 004489919518",
        # private and reserved networks (prefix or mask, no host bits), broadcast and unspecified addresses
        "ufw deny from 10.40.0.0/16 to any",
        "ip route 172.20.0.0 255.255.0.0 Null0",
        "access-list 5 permit 192.168.12.0 0.0.0.255",
        "delegated prefix fd12:3456:789a::/48 to the lab",
        "broadcast 10.9.255.255 on vlan 12",
        "bind 0.0.0.0:9000 for metrics",
        "New connection from 127.0.0.1:63534 on port 1883.",
        "trusted_proxies: ::1",
        # ZIP+4 codes (never an SSN's 3-2-4), a German meter id's tail, a certificate number dialled from nowhere
        "Shipped to ZIP 90210-1234, 2 lb",
        "SSN on file; mailing ZIP 10001-3344.",
        "Zählernummer 1 ESY 11 22334455 abgelesen",
        "Volunteer form · DBS certificate: 003607776793 · Availability: weekends",
        # a firmware sentence introducing the current and new releases; a table column named Firmware
        "Firmware for the NAS: current 2.1.0.44, new 2.1.3.10",
        "| Device | Firmware |\n|---|---|\n| AP-3 | 6.2.0.19 |",
        "Inventory\n\n| Device | Site | Owner | Firmware |\n|---|---|---|---|\n| AP-3 | Lyon | ops team | 6.2.0.19 |",
        # registers, references, slots and meter numbers
        "Vendor W-9 on file: 34-3341558, S corporation",
        "Partner 13177673-2-26 rögzítve",
        "Mededeling +++550/9435/43037+++ vermelden.",
        "prot. 24/0312/0045 del giorno",
        "Lektion mån 07.00–16.50 sal B2",
        "Cell 31425-5512-27781 stats",
        "Bilan du 03/06/2024 (dossier 235884-5839).",
        "PDL 0923 4567 8901 23",
        "Meter MPAN 00 801 321 27 3354 742 954 — reading",
        # mod 97 holds but the United Kingdom registered 22 characters, not 23
        "Rejected: GB23 BARC 9458 0730 2157 368 is too long",
        # version words written without spaces (Japanese, Chinese); a broadcast address under a mask stated later
        "ファームウェアのバージョン 10.4.22.180 を適用しました",
        "固件版本 10.2.33.171 已安装",
        "Magic packet to 10.20.31.255 on port 9, mask 255.255.254.0.",
        # payment references, catalogue numbers, tariff and drug codes
        "Pagamento: Entidade 21312 · Referência 512 604 817 · 25,00 €",
        "Inventario n. 02 45117823 – olio su tela",
        "partida arancelaria 0804.50.00, 300 cajas",
        "NDC 50090-347-01 · Amoxicillin 500 mg",
    ],
)
def test_dates_releases_codes_and_barcodes_are_not_phones_or_cards(scrubber: PiiScrubber, text: str) -> None:
    assert scrubber.detect(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        # an address word right before the quad outweighs a firmware version a few words back
        ("node-7 fw 2.4.1 dhcp lease 198.51.100.77 granted", "ip", "198.51.100.77"),
        ("kernel 6.1 up, peer 203.0.113.45 connected", "ip", "203.0.113.45"),
        # compounds of 'kontakt' and the Polish 'will call' are phone words
        ("Kontaktinfo: 38 41 27 95", "phone", "38 41 27 95"),
        ("Kurier zadzwoni pod numer (22) 6543219 rano", "phone", "(22) 6543219"),
        # a CAS-shaped number with a wrong check digit is still a phone after a phone word
        ("Tel. 10043-35-4", "phone", "10043-35-4"),
        # phones and cards beside the look-alikes above
        ("call 4985 5992", "phone", "4985 5992"),
        ("Tel. 415.555.0123", "phone", "415.555.0123"),
        ("Ph: 1.415.555.0123", "phone", "1.415.555.0123"),
        ("teléfono 912.345.678", "phone", "912.345.678"),
        # a 13-digit Visa number that happens to carry a valid GS1 check digit too, named as a card
        ("Visa card 4626852567377", "card", "4626852567377"),
        # a word ending in 'ts' is no timestamp cue
        ("Complaints: 080-41234567", "phone", "080-41234567"),
        # interfaces, single hosts and public networks stay addresses
        ("inet 10.0.0.5/24 brd 10.0.0.255", "ip", "10.0.0.5/24"),
        ("AllowedIPs = 10.8.0.2/32", "ip", "10.8.0.2/32"),
        ("allow 85.82.212.0/24;", "ip", "85.82.212.0/24"),
        ("ip address 10.1.1.4 255.255.255.252", "ip", "10.1.1.4"),
        ("Router updated, new IP 10.0.0.5 assigned", "ip", "10.0.0.5"),
        ("host 10.20.31.254 mask 255.255.254.0", "ip", "10.20.31.254"),
        (
            "| Device | Firmware |\n|---|---|\n| AP-3 | 6.2.0.19 |\n\n| Host | Address |\n|---|---|\n| gw | 10.0.0.1 |",
            "ip",
            "10.0.0.1",
        ),
        # ones in the host bits of a /30 are no evidence of a broadcast address
        ("p2p peer 10.0.0.3, mask 255.255.255.252", "ip", "10.0.0.3"),
        # the number an Asterisk dial string dials; 'reperibilità' (on call at) is a phone word
        ("exten => 100,1,Dial(PJSIP/+442079460321@office-trunk,30)", "phone", "+442079460321"),
        ("exten => 200,1,Dial(SIP/+33612345678@provider)", "phone", "+33612345678"),
        ("Reperibilità: 3471234567", "phone", "3471234567"),
        # a signature's 'M:', an MSISDN (E.164 without its '+'), a CSV column headed 'Mobil'
        ("Signature block — M: 07700900456", "phone", "07700900456"),
        ("Port request for MSISDN 447700900123 accepted", "phone", "447700900123"),
        ("Nachname;Vorname;Ort;Mobil\nVogel;Henrik;Heidelberg-Rohrbach;01731196046", "phone", "01731196046"),
    ],
)
def test_hosts_phones_and_cards_beside_those_look_alikes_are_found_exactly(
    scrubber: PiiScrubber, text: str, kind: str, value: str
) -> None:
    found = [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)]
    assert found == [(kind, value)]


def test_evaluation_counts_every_occurrence_of_a_labelled_value() -> None:
    from vectorrouter.compliance.pii import PiiSpan

    text = "from 203.0.113.9 (203.0.113.9)"
    rows = [{"text": text, "pii": [["ip", "203.0.113.9"]]}]
    both = evaluate(
        rows, lambda t: [PiiSpan("ip", 5, 16, 1.0, "IP_ADDRESS"), PiiSpan("ip", 18, 29, 1.0, "IP_ADDRESS")]
    )
    assert (both.kinds["ip"].tp, both.kinds["ip"].fp, both.kinds["ip"].fn) == (2, 0, 0)
    first = evaluate(rows, lambda t: [PiiSpan("ip", 5, 16, 1.0, "IP_ADDRESS")])
    assert (first.kinds["ip"].tp, first.kinds["ip"].fn) == (1, 1)
    assert first.misses == [f"ip: '203.0.113.9' in {text!r}"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # each scheme named right before its number, or in a field named for national ids in general
        ("Personnummer: 811218-9876", "811218-9876"),  # Swedish: Luhn over YYMMDDNNNC
        ("CPR-nr.: 010190-1234", "010190-1234"),  # Danish: a real birth date (no check digit since 2007)
        ("Fødselsnummer 01019010046", "01019010046"),  # Norwegian: two modulus-11 digits
        ("Henkilötunnus 131052-308T", "131052-308T"),  # Finnish: century sign and mod-31 character
        ("131052-308T", "131052-308T"),  # ... evident without its name
        ("Rijksregisternummer 85073003328", "85073003328"),  # Belgian: 97 - (first nine mod 97)
        ("85.07.30-033.28", "85.07.30-033.28"),  # ... evident in its printed form
        ("NIF 123456789", "123456789"),  # Portuguese person: modulus-11 check digit
        ("2 55 08 14 168 025 38", "2 55 08 14 168 025 38"),  # French NIR, grouped as printed, with its key
        ("CPF: 529.982.247-25", "529.982.247-25"),  # Brazilian: two check digits
        ("Aadhaar 2341 2341 2346", "2341 2341 2346"),  # Indian: Verhoeff check digit
        ('national_id { value: "85073003328" }', "85073003328"),  # any scheme after a general id field
        ('tax_id = "01019010046"', "01019010046"),
        # a serialised line break separates the scheme's name from what came before it
        ("DESCRIPTION:Room 4\\nPESEL: 02070803628", "02070803628"),
    ],
)
def test_national_ids_of_more_schemes_are_found_by_their_definitions(
    scrubber: PiiScrubber, text: str, value: str
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == [("national_id", value)]


@pytest.mark.parametrize(
    "text",
    [
        "Personnummer: 811218-9877",  # the Luhn digit is wrong
        "Fødselsnummer 01019010047",  # the second check digit is wrong
        "Henkilötunnus 131052-308U",  # the check character is wrong
        "CPF: 529.982.247-26",  # the second check digit is wrong
        "Aadhaar 2341 2341 2345",  # fails Verhoeff
        "NIF 523456789",  # a company's number (5-9), not a person's
        "CPR-nr.: 320190-1234",  # no 32nd of January
        "Bestellung 8112189876",  # a valid personnummer's digits, but nothing names a scheme
        "Rechnung 01019010046",  # a valid fødselsnummer's digits, unnamed
        "order 234123412346",  # a Verhoeff-valid twelve digits, unnamed
    ],
)
def test_national_ids_of_more_schemes_need_a_valid_check_and_a_name_or_their_own_form(
    scrubber: PiiScrubber, text: str
) -> None:
    assert [s for s in scrubber.detect(text) if s.kind == "national_id"] == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # an address glued to Japanese or Korean text ends where the script changes
        ("yuki.tanaka@example.co.jpまでご連絡ください", [("email", "yuki.tanaka@example.co.jp")]),
        ("> minji.park@example.kr로 보내주세요", [("email", "minji.park@example.kr")]),
        # Troy and RuPay issuer ranges
        ("Kart no: 9792 0300 0000 0000", [("card", "9792 0300 0000 0000")]),
        ("RuPay 8100 0000 0000 0002", [("card", "8100 0000 0000 0002")]),
        # multicast groups and short link-local addresses are no hosts; a SLAAC-made one (64-bit interface id)
        # follows its device and stays PII
        ("# mdns 224.0.0.251 / ff02::fb port 5353", []),
        ("Address=fe80::1/64 and 169.254.10.20 self-assigned", []),
        ("neighbor fe80::1ff:fe23:4567:890a reachable", [("ip", "fe80::1ff:fe23:4567:890a")]),
        # a private network with its mask after 'netmask'
        ("# subnet 192.168.40.0 netmask 255.255.255.0", []),
        # a routing table entry is for an address; only a clause or table *number* right after the word is one
        ("BGP routing table entry for 81.2.69.0/24", [("ip", "81.2.69.0/24")]),
        ("see Table 4.1.2.7 for the limits", []),
        # an AS path is no Indian landline; an Indian mobile is written 5-5
        ("Paths: (2 available)\n  44830 30741, (received & used)", []),
        ("call 98481 22734 after six", [("phone", "98481 22734")]),
        # a ZIP+4 code is no phone
        ("כתובת: 94103-2710", []),
        # a barcode starting with 00 dials nowhere; 'Referanse' (Norwegian) names a reference
        ('<span itemprop="gtin12">001234567895</span>', []),
        ("Bonus Referanse: 983 047 464", []),
        # a phone number in a space-aligned table under a 'phone' header, next to the next column's digits
        (
            "    customer  phone              score\n0   Emre      +90 212 996 99 59  0.870",
            [("phone", "+90 212 996 99 59")],
        ),
    ],
)
def test_scripts_issuers_groups_links_tables_and_columns_after_held_out_v13(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found


def test_a_number_grouped_5_4_after_an_area_code_in_parentheses_is_still_a_phone(
    scrubber: PiiScrubber,
) -> None:
    text = "her new number is (41) 98013-2000"
    start = text.index("98013-2000")
    assert [s.kind for s in scrubber.detect(text) if s.start <= start < s.end] == ["phone"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a key=value or LEEF field ends before the address; an SSH remote after 'handle=' is no mailbox
        ("usrName=ana^email=ana.ruiz@example.es^ref=INC01", [("email", "ana.ruiz@example.es")]),
        ("handle=git@bitbucket.org:team/infra.git", []),
        ("cs1Label=handle cs1=git@gitlab.com:org/app.git", []),
        # serial and company numbers after their names, quoted or escaped; a code glued to CJK text
        ("S/N: 0578-815-36", []),
        ("{serial: '6516-896-90'}", []),
        ('{\\"company_id\\": \\"552531-7265\\"}', []),
        ("编号ORD-2025-796322。", []),
        # a CPF-shaped number with a wrong check digit is no phone; a masked number's visible head is none
        ("CPF nº为161.376.877-09", []),
        ("phone_masked=+49 151 •••• ••26", []),
        # presidio's card pattern takes a 16-digit timestamp; no network issues from 1
        ('{"__REALTIME_TIMESTAMP": "1780000000000004"}', []),
        # a private network named a subnet even with host bits set; a firmware field's version
        ("Subnet: 172.28.0.0/12", []),
        ("?21P/N 5274-162-08\n?24Firmware 5.1.3.23", []),
        ("cs4Label=firmware cs4=1.18.9.201", []),
        # addresses written against Korean text
        ("IP 주소158.226.148.21. 감사합니다", [("ip", "158.226.148.21")]),
        (
            "IP 주소은 2a01:4f8:fe0:f8c5:19b4:7538:fc13:2c39입니다",
            [("ip", "2a01:4f8:fe0:f8c5:19b4:7538:fc13:2c39")],
        ),
        # phone words glued to a field code, as emoji, as a field-name compound, and a CEF label before 'cs3='
        ("?21Komórka (22) 237-04-20", [("phone", "(22) 237-04-20")]),
        ("📱 07700 900123", [("phone", "07700 900123")]),
        ("\\setkomavar{fromphone}{0171 2345678}", [("phone", "0171 2345678")]),
        ("cs3Label=phone cs3=051 9563 508", [("phone", "051 9563 508")]),
        # a Belgian national number after its abbreviation; a Diners number in a LEEF record
        ("cs3Label=rrn cs3=850730 033 28", [("national_id", "850730 033 28")]),
        ("^pan=3006 123456 7861^ref=INC01", [("card", "3006 123456 7861")]),
    ],
)
def test_fields_remotes_masks_subnets_scripts_and_labels_after_held_out_v14(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found


@pytest.mark.parametrize(
    "text",
    [
        "499095-1454",  # 6-4 without a trunk 0: a Nordic personal number's shape or a dated reference
        "id 009575-252K",  # digits running on into a letter: a code
        "12.04.56-789.01",  # a Belgian national number's shape with a failing check is no phone either
    ],
)
def test_six_four_groups_and_codes_are_not_phones(scrubber: PiiScrubber, text: str) -> None:
    assert [s for s in scrubber.detect(text) if s.kind == "phone"] == []


def test_a_phone_glued_to_japanese_text_is_still_found(scrubber: PiiScrubber) -> None:
    text = "変更があれば+81 90-1234-5678までお電話ください"
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == [("phone", "+81 90-1234-5678")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a masked address is none, even where presidio's pattern starts after the stars
        ("E-mail: j****k@example.net", []),
        # a company register after 'Reg.'; a masked number after a phone word
        ("Reg.: 651 146 398 RCS Paris", []),
        ("Tel.: +49 30 *****671", []),
        # a timestamp's fraction and zone letter; a JSON key that names another value
        ("2024-07-24T04:04:00.8912813Z ##[group]Run", []),
        ('{"update_id": 235075448,\n "id": 816751938,\n "ssn": "n/a"}', []),
        # the last two groups of an order number 3-7-7
        ("DAMAGE REPORT 282-6123456-7890125", []),
        # a private address ending in .255 (a /24's broadcast address)
        ("ping -c 3 192.168.19.255", []),
        # a tcpdump line writes each port after a dot; the multicast group is no host
        (
            "02:05:15.274550 IP 81.2.69.160.22553 > 224.0.0.251.5353: 8 PTR?",
            [("ip", "81.2.69.160")],
        ),
        # a wiki signature links a contributor's address twice
        (
            "— [[Special:Contributions/81.2.69.160|81.2.69.160]] 10:56",
            [("ip", "81.2.69.160"), ("ip", "81.2.69.160")],
        ),
        # an Iranian IBAN (26 characters, used nationally though not in the SWIFT registry)
        ("IBAN: IR062960000000100324200001", [("iban", "IR062960000000100324200001")]),
        # a value named once is PII wherever the text repeats it; a scheme named right after its number
        ("<seg>Note: 123456782</seg><seg>BSN: 123456782</seg>", [("national_id", "123456782")] * 2),
        ("02070803628 – numer PESEL wnioskodawcy", [("national_id", "02070803628")]),
    ],
)
def test_masks_registers_fractions_keys_ports_signatures_and_repeats_after_held_out_v15(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found


def test_verhoeff_catches_every_single_digit_error_and_every_adjacent_swap() -> None:
    from vectorrouter.compliance.national_ids import verhoeff

    for number in ("999941057058", "234123412346", "2363"):
        assert verhoeff(number)
        for i, digit in enumerate(number):
            for other in "0123456789":
                if other != digit:
                    assert not verhoeff(number[:i] + other + number[i + 1 :]), (number, i, other)
            if i + 1 < len(number) and number[i] != number[i + 1]:
                assert not verhoeff(number[:i] + number[i + 1] + number[i] + number[i + 2 :]), (number, i)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a printed sheet of recovery codes: numbered items of one shape, no phone word
        (
            "BACKUP CODES\n 1. 4821 0937     6. 7730 1842\n 2. 0193 5528     7. 6610 2294\n"
            " 3. 8841 0273     8. 0452 7781\n 4. 3390 1108     9. 5127 6603\n 5. 2208 9931    10. 0736 4459",
            [],
        ),
        # a proxy log's elapsed milliseconds, then the client address (a loopback here)
        ("1737882337.573   8968 127.0.0.1 TCP_DENIED/200 64081 GET", []),
        # a loyalty card number after its name
        ("5. Bonus card\n   3816 0074 883", []),
        # national ids glued to Chinese and Japanese text, after their scheme's name or in their printed form
        ("表格需要我的F.nr.：01019010046。", [("national_id", "01019010046")]),
        ("书類用のCPFは529.982.247-25です。", [("national_id", "529.982.247-25")]),
        ("员工INSZ：85.07.30-033.28所有", [("national_id", "85.07.30-033.28")]),
    ],
)
def test_code_sheets_logs_cards_and_glued_ids_after_held_out_v16(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found


def test_a_phone_list_with_a_phone_word_is_still_found(scrubber: PiiScrubber) -> None:
    text = "Tel. 030 1234 5678\nTel. 030 8765 4321\nTel. 030 1111 2233\nTel. 030 4455 6677"
    assert [s.kind for s in scrubber.detect(text)] == ["phone"] * 4


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # a bullet on the next line is no mask over the number before it
        ("• Telefon: +49 176 12345678\n• IBAN: n/a", [("phone", "+49 176 12345678")]),
        # international numbers glued to Cyrillic 'тел.' and to Japanese text
        ("Связь с судьёй: тел.+44 131 496 0123", [("phone", "+44 131 496 0123")]),
        ("発信元+33 7 12 34 56 78から呼出し", [("phone", "+33 7 12 34 56 78")]),
        # a Brazilian company number (CNPJ) is no phone
        ("CNPJ da locadora 04.345.034/0001-50.", []),
    ],
)
def test_bullets_glued_numbers_and_company_numbers_after_held_out_v17(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # versions after 'Software' and under a Firmware or Build column of a titled, separated table
        ("Software – 8.2.2.193", []),
        ("Solar handover\nNaam ; Datum ; Firmware\nFleur ; 20-01-2023 ; 1.14.0.127", []),
        ("Repair slip\nNom | Date | Build\nInès | 03/04/2024 | 8.3.8.233", []),
        # a French company number after an en dash or under its column
        ("SIREN – 386 055 110", []),
        ("Sheet\nName\tDate\tSIREN\nT. W.\t06/05/2024\t338 398 218", []),
        # an scp-style remote of any user is no mailbox; an IBAN's digits after its country code are no card
        ("repo deploy@bitbucket.org:team/site.git", []),
        ("IBAN:\tIS6418638208957", []),
        # a Norwegian number after 'Fødselsnr.'; an IBAN glued to its label; a public prefix after 'IP-adress'
        ("Fødselsnr.: 01019010046", [("national_id", "01019010046")]),
        ("IBANDE89370400440532013000، ", [("iban", "DE89370400440532013000")]),
        ("OID:\t1.3.6.1.4.1.37093.8\nIP-adress:\t81.2.69.0/24", [("ip", "81.2.69.0/24")]),
    ],
)
def test_versions_registers_remotes_and_labels_after_held_out_v18(
    scrubber: PiiScrubber, text: str, found: list[tuple[str, str]]
) -> None:
    assert [(s.kind, text[s.start : s.end]) for s in scrubber.detect(text)] == found
