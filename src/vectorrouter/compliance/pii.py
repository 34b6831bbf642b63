"""PII detection and redaction in metadata values and, when configured, in the text itself.

Detection uses presidio-analyzer's recognizers, which carry the validation that makes structured PII
reliable: Luhn for card numbers, the ISO 7064 checksum for IBANs, the check letter of a Spanish NIF, the
check character of an Italian fiscal code, the invalid-range rules for US SSNs, libphonenumber for phone
numbers and the ``ipaddress`` module for IPs. We run the recognizers ourselves rather than through
presidio's ``AnalyzerEngine`` because that engine needs a spaCy model, and spaCy models are not on the
package registry; the engine's context boost is replaced by a small, explicit one here.

Recognizers of our own fill gaps in presidio's, each built from a published definition rather than from
examples: card numbers by issuer identification number (ISO/IEC 7812 IIN ranges and the lengths each network
issues, in one run or in groups of four or more, always Luhn-checked); phone numbers that are *possible* under the numbering plan of
their country (libphonenumber's length rules, without its "currently assigned" check) when written with an
international prefix, right after a phone word, or as the user of a ``sip:`` URI or an Asterisk dial string;
IBANs in lower case or irregular grouping (each country's
registered length and mod 97); addresses in file names, URL-encoded, or under top-level domains the bundled
suffix list lacks. Look-alikes are rejected by the definition of what they are written as: a dotted quad after
``v``, ``Product/`` or a version/section word is a version or clause number, a netmask is no host, a number
with a valid ISBN check digit in ISBN hyphenation is a book, one with a valid CAS check digit in CAS form is a
chemical, a release numbered 119.0.5481.68 is a version, and dates (ISO ones too), decimals, times, settings,
OIDs, part and reference codes, dotted groups no plan prints (8.13.335.6525), numbers with no trunk 0 at a
length only trunk-0 plans use, and bare digit runs, all three with no phone word before them, are no phone
numbers; 12-13 digits with a GS1 check digit and no card word before them are a barcode; an address word right
before a dotted quad ('dhcp lease', 'peer') makes it a host whatever version word came earlier.
``bench/pii.py`` scores all this on blind held-out sets written by authors who never read this module.

National ids on by default: US SSN, UK NINO, Spanish DNI/NIF and NIE (also punctuated: ``12.345.678-Z``,
``Y-1234567-L``, always with the mod-23 letter), Italian codice fiscale (compact or spaced, with its check
character), and Polish PESEL, Dutch BSN and bare nine-digit SSNs, which count only where their scheme is named
(their check digits alone let one random number in ten through).

Everything runs offline. E-mail validation uses tldextract's bundled public-suffix snapshot, never a fetch.
Names are detected only when an NER model is configured (``ner=`` an installed spaCy pipeline package, a
pipeline directory, or a loaded ``spacy.Language``): without one, names pass through and the docs say so.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from vectorrouter.compliance import national_ids
from vectorrouter.errors import ConfigurationError
from vectorrouter.hooks import IngestContext
from vectorrouter.types import MetaValue, Record

__all__ = ["NATIONAL_IDS", "STRUCTURED", "PiiKind", "PiiScrubber", "PiiSpan"]

log = logging.getLogger("vectorrouter.compliance")

PiiKind = Literal["email", "phone", "card", "iban", "national_id", "ip", "name"]
STRUCTURED: tuple[PiiKind, ...] = ("email", "phone", "card", "iban", "national_id", "ip")
#: presidio entity names of the national-id recognizers enabled by default.
NATIONAL_IDS = (
    "US_SSN",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "PL_PESEL",
    "NL_BSN",
    "SE_PERSONNUMMER",
    "DK_CPR",
    "NO_FODSELSNUMMER",
    "FI_HETU",
    "BE_NATIONAL_NUMBER",
    "PT_NIF",
    "FR_NIR",
    "BR_CPF",
    "IN_AADHAAR",
)
_KIND_OF = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
    "IP_ADDRESS_PORT": "ip",
    "PERSON": "name",
    **dict.fromkeys(NATIONAL_IDS, "national_id"),
    "ES_NIF_NIE": "national_id",
    "US_SSN_DIGITS": "national_id",
}
#: presidio's own context factor: a context word before a match adds this much confidence.
_CONTEXT_BOOST = 0.35
#: Words that, right before a number, say it is a reference and not a person's (unvalidated kinds only).
_REFERENCE_CUE = re.compile(
    # a whole word (the 'ts' ending 'Complaints:' is no timestamp), or the tail of a compound (Rechnungsnr.)
    r"(?<!\w)(?:\w*nr|order|ord|invoice|inv|ref|reference|ticket|case|isbn|issn|sku|part|serial|tracking|version|build|po|"
    r"account\s+no|batch|lot|model|item|receipt|booking|confirmation|parcel|shipment|consignment|waybill|awb|"
    # the same words in the other languages of the default phone regions (de, fr, es, it, nl, pl, pt)
    r"nr|artikel|bestellung|bestell|rechnung|auftrag|kunden|mandat|référence|réf|commande|facture|article|"
    r"número|\w*numero|núm|n[°º.]|pedido|factura|albarán|referencia|referência|entidade|ordine|fattura|articolo|"
    r"bestelling|factuur|referanse|referens|viite\w*|"
    # customs tariff and drug codes
    r"arancelaria|tariff|taric|zolltarif|ndc|"
    r"zamówienie|faktura|encomenda|fatura|"
    # claims, policies, contracts, accounts and customer numbers; compounds such as Kundennummer, Zählernummer
    r"p/n|cas|ean|gtin|upc|barcode|zip|postcode|postal\s+code|plz|\w*certificate|certificat|zertifikat|"
    r"s/n|reg|company[\s_-]?id|bonus\s+card|loyalty\s+card|member(?:ship)?\s+card|dossier|ein|adószám|adoszam|pdl|prm|mpan|mprn|zählpunkt|cups|account|acct|y-tunnus|company\s+(?:no|number|reg(?:istration)?)|vat\s+reg(?:istration)?\.?(?:\s+no\.?)?(?:\s+[a-z]{2})?|"
    r"claim|schadeclaim|sinistro|siniestro|denuncia|polizza|póliza|policy|police|contract|contrato|contratto|"
    r"vertrag|\w*nummer|\w*konto|\w*zeichen|cuenta|conto|rekening|customer|client|cliente|klant|apólice|apolice|"
    # tax and company registers: VAT, Polish NIP/REGON/KRS, French SIREN/SIRET, Dutch KvK/BTW, Austrian UID
    r"p\.?\s?iva|vat|nip|regon|krs|siren|siret|kvk|btw|uid|ust|"
    # machine times
    r"unix|epoch|timestamp|ts)\.?\s*(?:no\.?|nr\.?|n[°º.]|number|num|id|#)?[\s:#='\"\\–—-]{0,8}$",
    re.IGNORECASE,
)
#: Before a number, these name an identity document: the digits are then not a phone number.
_ID_CUE = re.compile(
    r"(?:ssn|social\s+security(?:\s+(?:number|no))?|nino|national\s+insurance(?:\s+(?:number|no))?|nif|dni|"
    r"tax\s+id|taxpayer\s+identification\s+number(?:\s+\(tin\))?|"
    # the other schemes' names (see the national-id recognizers below) and national ids in general
    r"pesel|bsn|personnummer|cpr(?:-?nr)?|fødselsnummer|henkilötunnus|hetu|rijksregisternummer|contribuinte|nir|"
    r"cpf|aadhaar|national[\s_-]?id|national\s+number|tax_id)\W*$",
    re.IGNORECASE,
)
#: Within a few words before a dotted quad, these say it numbers a release, not a host; right before it, these
#: say it numbers a clause or a table (a "routing table entry for 91.50.176.0/20" is an address).
_VERSION_CUE = re.compile(
    # (after a field code's digits too: MT940's '?24Firmware 5.1.3.23'), up to three words or a key= between
    r"(?<![^\W\d]|-)(?:version|ver|release|rel|build|firmware|fw|software|kernel|upgraded?|updated?|downgraded?|"
    r"patch(?:ed)?|"
    # the schema words before an OID
    r"attributetype|objectclass|oid)(?![\w-])\W*(?:\S+\s+){0,3}(?:[\w.-]+[=:])?$|§\s*$|"
    r"(?<![\w-])(?:section|sect?|chapter|clause|paragraph|para|article|art|figure|fig|table|tab|appendix|annex|"
    r"equation|eq|step|footnote|"
    # the same in the other languages of the default regions
    r"abschnitt|kapitel|absatz|ziffer|anhang|chapitre|paragraphe|annexe|sección|seccion|capítulo|capitulo|"
    r"apartado|anexo|sezione|capitolo|allegato|hoofdstuk|paragraaf|bijlage|rozdział|artykuł|artikel|artículo|"
    r"articulo|articolo|artigo)(?![\w-])\.?\s*(?:(?:no|nr|n[°º])\.?\s*)?[:#]?\s*$|"
    # Japanese, Chinese and Korean write no spaces between words, so these need no boundary
    r"(?:バージョン|ファームウェア|版本|固件|버전|펌웨어)\W*(?:\S+\s+){0,2}$",  # a whole word: not the 'fw' of 'fw-branch-07'
    re.IGNORECASE,
)
_PHONE_WORDS = (
    # '…phone' compounds are field names too: homephone, workphone, fromphone (a LaTeX letter's sender)
    r"\w*phone|tel|telephone|mobile|mob|cell|cellphone|call|fax|sms|text|whatsapp|ring|dial|hotline|"
    r"telefon\w*|téléphone|telephone|teléfono|telefono|telefoon|tlf|tfn|móvil|movil|cellulare|handy|portable|"
    r"mobil\w*|mobiel\w*|gsm|\w*rufnummer|handynummer|faxnummer|\w*belnummer|terugbel\w*|telefoonnummer|"
    r"celular|telemóvel|telemovel|contact|komórk\w*|"
    # 'call us' and 'customer service' in the other languages of the default regions
    r"llame|llamar|llámenos|appelez|appeler|anrufen|rufen|chiamare|chiami|chiamate|bellen|bel|ligue|ligar|"
    r"zadzwoń|dzwoni\w*|atención\s+al\s+cliente|kundenservice|kundendienst|service\s+client|servizio\s+clienti|"
    # 'contact' and 'write/ring me' as classified ads put it
    r"contacto|contato|kontakt\w*|skriv|ringe|soita|puhelin|(?:za)?dzwoni\w*|reperibilità|reperibile|"
    r"klantenservice"
)
#: A phone word (not glued to a letter before it: a field code such as MT940's '?21Komórka' may be) or emoji.
_PHONE_TOKEN = rf"(?<![^\W\d])(?:{_PHONE_WORDS})\b|[📱📞☎✆]\ufe0f?"
_PHONE_WORD = re.compile(_PHONE_TOKEN, re.IGNORECASE)
#: Words right before a number that say it is a telephone number (then a merely *possible* number counts).
_PHONE_CUE = re.compile(rf"(?:{_PHONE_TOKEN})\W{{0,4}}(?:\w+\W{{1,3}}){{0,2}}$", re.IGNORECASE)
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")
#: A calendar date written with dots or slashes (07.12.2026, 3/4/85): day and month are checked in ``_date_like``.
_DOTTED_DATE = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d]|[./-]\d)")
#: An ISO 8601 calendar date, year first (2024-04-22, also glued to its time: 2024-04-22T16:16:13Z).
_ISO_DATE = re.compile(r"(?<![\d./-])(?:19|20)\d\d([./-])(\d{1,2})\1(\d{1,2})(?!\d|[./-]\d)")
# A structured-PII kind always has a digit, an '@' or a ':' in it; other strings skip the recognizers.
_MAY_HOLD = re.compile(r"[0-9@:]")
_CLEAN_CACHE = 8192


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One detected piece of PII: its kind, character span, confidence and the recognizer's entity name."""

    kind: str
    start: int
    end: int
    score: float
    entity: str


def _offline_email_recognizer() -> Any:
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # the default extractor fetches the public-suffix list over the network on first use; never here
    extract = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            # a known public suffix, or any alphabetic top-level label: the bundled suffix list lags new
            # top-level domains, and an address under one is no less an address
            host = pattern_text.rpartition("@")[2]  # only the host: 'k8s.io/client-go@v0.31.2' has none
            if _FILE_SUFFIX.search(host):
                return bool(extract(host).fqdn)  # '….se.pdf', 'icon@2x.png' are file names: see analyze
            return bool(extract(host).fqdn) or bool(_DOMAIN.search(pattern_text))

        def analyze(self, text: str, entities: Any, nlp_artifacts: Any = None, *args: Any) -> Any:
            found = []
            for r in super().analyze(text, entities, nlp_artifacts, *args):
                # RFC 5322 allows '=', '^' and '|' in a local part, but in 'handle=git@…' or a LEEF record's
                # '…5923^email=ana@…' they end the field before it: the address starts after the last one
                local = text[r.start : r.end].partition("@")[0]
                cut = max(local.rfind(c) for c in "=^|")
                if cut >= 0:
                    r.start += cut + 1
                    if not self.validate_result(text[r.start : r.end]):
                        continue
                if _mailbox(text, r.start, r.end):
                    found.append(r)
            if "%40" in text:
                found += self._percent_encoded(text)
            if "@" not in text:
                return found
            from presidio_analyzer import RecognizerResult

            # an address glued to Japanese, Chinese or Korean text ('haruto@yahoo.co.jp宛てに'): a host name is
            # ASCII (or punycode), so it ends where the script changes
            for m in _EMAIL_ASCII.finditer(text):
                start, end = m.span()
                taken = any(r.start < end and start < r.end for r in found)
                if not taken and self.validate_result(m.group()) and _mailbox(text, start, end):
                    found.append(RecognizerResult("EMAIL_ADDRESS", start, end, 1.0))
            # an address that names a file ('... jane@example.com.au.eml'): the extension is no top-level
            # domain, so the whole token fails validation; the address before it is still an address
            for m in _EMAIL_FILE.finditer(text):
                start, end = m.span(1)
                taken = any(r.start < end and start < r.end for r in found)
                if not taken and self.validate_result(m.group(1)):
                    found.append(RecognizerResult("EMAIL_ADDRESS", start, end, 1.0))
            return found

        def _percent_encoded(self, text: str) -> list[Any]:
            from presidio_analyzer import RecognizerResult

            # 'epost=eriks75%40gmail.com' in a logged query string is the address, URL-encoded
            return [
                RecognizerResult("EMAIL_ADDRESS", m.start(), m.end(), 1.0)
                for m in _EMAIL_PERCENT.finditer(text)
                if self.validate_result(m.group().replace("%40", "@"))
            ]

    return OfflineEmailRecognizer()


def _mailbox(text: str, start: int, end: int) -> bool:
    """Whether ``local@host`` at ``text[start:end]`` names a person's mailbox.

    Not: the ``git`` user of an SSH remote (``git@github.com:org/app.git``, ``ssh://git@host:7999/…``), whose
    host is followed by a path, not a message; a masked address (``o***@telia.com``, masking runs of ``*``); the
    user part of a SIP URI that is a telephone number (``sip:+34714577894@host``: RFC 3261's telephone
    subscriber, a phone number, found as one).
    """
    local = text[start:end].partition("@")[0]
    if local == "git" and (
        text[max(0, start - 6) : start] == "ssh://" or re.match(r":[\w~/]", text[end : end + 2])
    ):
        return False
    if re.match(r":[\w~.-]+/", text[end : end + 64]):
        return False  # 'deploy@host:team/app.git': an scp-style remote path of any user
    if "**" in local or text[max(0, start - 1) : start] == "*":
        return False  # 'j****k@daum.net': presidio's pattern starts after the stars
    head = max(0, start - 8)  # 'sips:+' and the address's own first characters
    return not any(m.start(1) <= start - head <= m.end(1) for m in _SIP_USER.finditer(text[head:end]))


#: The user part of a ``sip:``/``sips:`` URI or of a dial string written as a telephone number (E.164 allows 15
#: digits).
_SIP_USER = re.compile(
    # 'sip:+4420…@host', and an Asterisk dial string's 'PJSIP/+4420…@trunk' (technology/number@endpoint)
    r"(?:(?<![\w])sips?:|\b(?:pjsip|sip|iax2|dahdi|local)/)(\+?\d[\d.()-]{5,18}\d)@",
    re.IGNORECASE,
)
#: A host name with a letter in the label before an alphabetic top-level label ('1.3.0.tgz' is no domain).
_DOMAIN = re.compile(
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]*[a-z][a-z0-9-]*\.[a-z]{2,63}$", re.IGNORECASE
)
_EXTENSIONS = r"(?:eml|msg|pdf|txt|docx?|xlsx?|csv|json|html?|png|jpe?g|gif|svg|webp|avif|zip|t?gz|tar|vcf|ics|pptx?|odt)"
_FILE_SUFFIX = re.compile(rf"\.{_EXTENSIONS}$", re.IGNORECASE)
_EMAIL_PERCENT = re.compile(r"(?<![\w.+%-])[\w.+-]+%40(?:[a-z0-9-]+\.)+[a-z]{2,63}(?![\w-])", re.IGNORECASE)
#: An address in ASCII after and before other scripts (a Latin letter or digit glued on either side is no edge).
_EMAIL_ASCII = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)
#: An e-mail address followed by a file extension, as in saved messages and attachments' names.
_EMAIL_FILE = re.compile(
    rf"(?<![\w.+-])([\w.+-]+@(?:[a-z0-9-]+\.)+[a-z]{{2,}})\.{_EXTENSIONS}(?![\w.])", re.IGNORECASE
)


def _recognizers(kinds: set[str], national_ids: Sequence[str], phone_regions: Sequence[str]) -> list[Any]:
    from presidio_analyzer import Pattern
    from presidio_analyzer import predefined_recognizers as pr

    out: list[Any] = []
    if "email" in kinds:
        out.append(_offline_email_recognizer())
    if "phone" in kinds:
        out.append(_ColumnGaps(pr.PhoneRecognizer(supported_regions=tuple(phone_regions))))
        out.append(_ColumnGaps(PossiblePhoneRecognizer(phone_regions)))
    if "card" in kinds:
        # presidio's pattern predates Mastercard's 2221-2720 range (issued since 2017): add it, Luhn still applies
        two_series = Pattern(
            "Mastercard 2-series",
            r"\b(2(?:22[1-9]|2[3-9]\d|[3-6]\d{2}|7[01]\d|720))[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{4})\b",
            0.3,
        )
        out.append(pr.CreditCardRecognizer(patterns=[*pr.CreditCardRecognizer.PATTERNS, two_series]))
        out.append(IinCardRecognizer())
    if "iban" in kinds:
        out.append(pr.IbanRecognizer())
        out.append(SpacedIbanRecognizer())
    if "ip" in kinds:
        out.append(pr.IpRecognizer())
        out.append(GluedAddressRecognizer())
        out.append(DottedPortAddressRecognizer())
    if "national_id" in kinds:
        by_entity: dict[str, Callable[[], Any]] = {
            "US_SSN": pr.UsSsnRecognizer,
            "UK_NINO": pr.UkNinoRecognizer,
            "ES_NIF": pr.EsNifRecognizer,
            "ES_NIE": pr.EsNieRecognizer,
            "IT_FISCAL_CODE": FiscalCodeRecognizer,
            "PL_PESEL": PeselRecognizer,
            "NL_BSN": BsnRecognizer,
            "SE_PERSONNUMMER": SwedishPersonnummerRecognizer,
            "DK_CPR": DanishCprRecognizer,
            "NO_FODSELSNUMMER": NorwegianFodselsnummerRecognizer,
            "FI_HETU": FinnishHetuRecognizer,
            "BE_NATIONAL_NUMBER": BelgianNationalNumberRecognizer,
            "PT_NIF": PortugueseNifRecognizer,
            "FR_NIR": FrenchNirRecognizer,
            "BR_CPF": BrazilianCpfRecognizer,
            "IN_AADHAAR": AadhaarRecognizer,
        }
        for entity in national_ids:
            if entity not in by_entity:
                raise ConfigurationError(
                    f"unknown national id {entity!r}",
                    field="compliance.pii.national_ids",
                    fix=f"use some of {', '.join(by_entity)}",
                )
            out.append(by_entity[entity]())
        if {"ES_NIF", "ES_NIE"} & set(national_ids):
            out.append(PunctuatedSpanishIdRecognizer())
        if "US_SSN" in national_ids:
            out.append(SsnRecognizer())
    return out


def _load_ner(ner: Any) -> Any:
    if not isinstance(ner, str | Path):
        return ner  # an already loaded spacy.Language
    import spacy

    name = str(ner)
    if not (Path(name).is_dir() or spacy.util.is_package(name)):
        # spacy.load would try to download a missing package: refuse instead, we run offline
        raise ConfigurationError(
            f"NER model {name!r} is neither an installed spaCy pipeline package nor a pipeline directory",
            field="compliance.pii.ner_model",
            fix="install the model package from a local wheel, point to a saved pipeline directory, "
            "or remove ner_model (names are then not detected)",
        )
    return spacy.load(name)


class PiiScrubber:
    """Finds and redacts PII; also an ingest hook (metadata always, text when ``scrub_text``).

    >>> s = PiiScrubber()                                     # doctest: +SKIP
    >>> s.redact("mail jane.doe@example.org or call +44 20 7946 0958")  # doctest: +SKIP
    'mail <email> or call <phone>'
    """

    def __init__(
        self,
        kinds: Iterable[str] | None = None,
        *,
        threshold: float = 0.4,
        scrub_text: bool = False,
        skip_fields: Iterable[str] = (),
        ner: Any = None,
        national_ids: Sequence[str] = NATIONAL_IDS,
        phone_regions: Sequence[str] = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "CA", "IN"),
        placeholder: str = "<{kind}>",
    ) -> None:
        wanted = (
            set(kinds) if kinds is not None else set(STRUCTURED) | ({"name"} if ner is not None else set())
        )
        unknown = wanted - {*STRUCTURED, "name"}
        if unknown:
            raise ConfigurationError(
                f"unknown PII kinds {sorted(unknown)}",
                field="compliance.pii.kinds",
                fix=f"use some of {', '.join((*STRUCTURED, 'name'))}",
            )
        if "name" in wanted and ner is None:
            raise ConfigurationError(
                "detecting names needs an NER model",
                field="compliance.pii.ner_model",
                fix="set ner_model to an installed spaCy pipeline, or leave 'name' out of kinds",
            )
        self.kinds = frozenset(wanted)
        self.threshold = threshold
        self.scrub_text = scrub_text
        self.skip_fields = frozenset(skip_fields)
        self.placeholder = placeholder
        self._recognizers = _recognizers(wanted, national_ids, phone_regions)
        self._nlp = _load_ner(ner) if "name" in wanted else None
        #: kind → how many values were redacted (counts only; the values are never kept).
        self.redacted: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._clean: set[str] = set()

    # -- detection --------------------------------------------------------------------------------
    def detect(self, text: str) -> list[PiiSpan]:
        """Non-overlapping PII spans in ``text``, in order of position."""
        if not text or (self._nlp is None and not _MAY_HOLD.search(text)):
            return []
        if text in self._clean:
            return []
        spans = self._detect_uncached(text)
        if not spans:
            # only clean strings are memoised (repeated values like 'en' are common): a string that
            # holds PII must not linger in memory after its record is written
            with self._lock:
                if len(self._clean) >= _CLEAN_CACHE:
                    self._clean.clear()
                self._clean.add(text)
        return list(spans)

    def _detect_uncached(self, original: str) -> tuple[PiiSpan, ...]:
        # a serialised line break ('DESCRIPTION:IP: …\\nPESEL: …' in iCalendar, JSON strings) separates words
        # as a real one does; two spaces keep every offset where it was
        text = _ESCAPED_BREAK.sub("  ", original) if "\\" in original else original
        found: list[PiiSpan] = []
        for rec in self._recognizers:
            for r in rec.analyze(text, rec.supported_entities, None):
                kind = _KIND_OF.get(r.entity_type)
                if kind is None or kind not in self.kinds:
                    continue
                score = self._adjust(float(r.score), text, r.start, r.end, rec.context or [], r.entity_type)
                if score >= self.threshold:
                    found.append(PiiSpan(kind, r.start, r.end, score, r.entity_type))
        if self._nlp is not None:
            found += [
                PiiSpan("name", e.start_char, e.end_char, 0.85, "PERSON")
                for e in self._nlp(text).ents
                if e.label_ in ("PERSON", "PER")
            ]
        return tuple(_every_occurrence(original, _resolve(found)))

    def _adjust(
        self, score: float, text: str, start: int, end: int, context: Sequence[str], entity: str
    ) -> float:
        before = text[max(0, start - 48) : start].lower()
        if entity in ("IP_ADDRESS", "IP_ADDRESS_PORT") and (
            _version_like(text, start, before)
            or (entity == "IP_ADDRESS" and _in_longer_dotted(text, start, end))
            or _mask_like(text[start:end])
            or _no_host(text, start, end, before)
        ):
            return 0.0
        if entity == "US_SSN" and re.sub(r"\D", "", text[start:end])[:1] == "9":
            return 0.0  # areas 900-999 were never issued (ITINs live there, in other group ranges)
        if _KIND_OF.get(entity) == "national_id" and _ZIP4.fullmatch(text[start:end]):
            return 0.0  # '23332-6369': a ZIP+4 code; an SSN is written 3-2-4
        if _KIND_OF.get(entity) == "national_id" and re.search(r"\d\.$", before):
            return 0.0  # '04:04:00.8912813Z': a timestamp's fraction and its zone letter, not a DNI
        if _KIND_OF.get(entity) == "national_id" and _inside_digit_groups(text, start, end):
            return 0.0  # '00 801 100 12 3456 789 012': a stretch of a longer grouped number (a meter's MPAN)
        if entity == "IBAN_CODE" and not _registered_length(text[start:end]):
            return 0.0  # 'GB60 LOYD 3008 9714 7328 116': 23 characters where the United Kingdom registered 22
        if (
            entity == "CREDIT_CARD"
            and (
                _no_issuer(re.sub(r"\D", "", text[start:end]))
                or re.search(r"\d[ -]$", before)
                or before[-2:].upper()
                in _IBAN_LENGTH  # 'IS6418638208957': an IBAN's country code, then its digits
                or before.endswith("+")
                or _IBAN_HEAD.search(before)
                or _imei_like(text[start:end])
                or _gtin_like(text[start:end], before)
            )
        ):
            # '+49 151 …' starts a phone number; 'DE95 1203 …' is an account, if a broken one
            return 0.0
        if score >= 1.0:
            return score  # checksum-validated: no cue can make it less certain
        if entity == "PHONE_NUMBER" and _METER_HEAD.search(text[max(0, start - 8) : start]):
            return 0.0  # 'Zählernummer 1 WUQ 64 88685604': the tail of a meter id
        cued = entity == "PHONE_NUMBER" and _phone_cue(text, start, end)
        if entity == "PHONE_NUMBER" and not _plausible_phone(
            text[start:end], before, text[end : end + 2], cued, text
        ):
            return 0.0
        if (
            entity not in ("IP_ADDRESS", "EMAIL_ADDRESS")  # an address is one whatever the word before it
            and (_REFERENCE_CUE.search(before) or _in_column(text, start, _REFERENCE_HEADER))
            and not text[start:end].startswith("+")
            and not cued
        ):
            return round(score - _CONTEXT_BOOST, 6)
        words = set(re.findall(r"[a-z]+", before))
        if any((c in before) if " " in c else (c.strip() in words) for c in context):
            return round(min(1.0, score + _CONTEXT_BOOST), 6)  # rounded: 0.05 + 0.35 must reach 0.4
        return score

    # -- redaction --------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        spans = self.detect(text)
        if not spans:
            return text
        parts, cursor = [], 0
        for s in spans:
            parts += [text[cursor : s.start], self.placeholder.format(kind=s.kind)]
            cursor = s.end
        parts.append(text[cursor:])
        self._count(spans)
        return "".join(parts)

    def _count(self, spans: Sequence[PiiSpan]) -> None:
        with self._lock:
            self.redacted.update(s.kind for s in spans)

    def _value(self, value: MetaValue) -> MetaValue:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**8:
            text = str(value)  # a card or phone number stored as a number is still PII
            red = self.redact(text)
            return value if red == text else red
        if isinstance(value, list):
            return [self._value(v) for v in value]  # type: ignore[return-value]
        return value

    def scrub_metadata(self, metadata: Mapping[str, MetaValue]) -> dict[str, MetaValue]:
        return {k: (v if k in self.skip_fields else self._value(v)) for k, v in metadata.items()}

    def __call__(self, records: list[Record], ctx: IngestContext) -> list[Record]:
        out = []
        before = sum(self.redacted.values())
        for rec in records:
            text = self.redact(rec.text) if self.scrub_text else rec.text
            md = self.scrub_metadata(rec.metadata)
            same = text == rec.text and md == dict(rec.metadata)
            out.append(rec if same else Record(id=rec.id, text=text, metadata=md, vector=rec.vector))
        n = sum(self.redacted.values()) - before
        if n:
            log.info("redacted %d PII value(s) in %d record(s) for %s", n, len(records), ctx.namespace)
        return out


#: A line break, tab or carriage return written as its escape sequence inside a serialised string.
_ESCAPED_BREAK = re.compile(r"\\[ntr]")
#: 'T: (0800) 335 7030 | M: 07206396614' — a signature's one-letter labels for telephone, mobile and fax.
_LETTER_CUE = re.compile(r"(?<![\w.])(?:t|m|f|tel|mob)\s?:\s*\(?$", re.IGNORECASE)
_LETTER_CUE_ANY = re.compile(r"(?<![\w.])(?:t|m|f|tel|mob)\s?:\s*[(+\d]", re.IGNORECASE)
#: An MSISDN is an E.164 number written without its '+': 'MSISDN 447304265976'.
_MSISDN = re.compile(r"\bmsisdn\b\W{0,4}(?:[a-z]+\W{1,3})?(\d{10,15})\b", re.IGNORECASE)
_MSISDN_BEFORE = re.compile(r"\bmsisdn\b\W{0,4}(?:[a-z]+\W{1,3})?$", re.IGNORECASE)
_SEPARATORS = ";,\t|"


def _phone_cue(text: str, start: int, end: int | None = None) -> bool:
    """Whether what comes before ``start`` says "phone": a phone word (or an MSISDN) a few words before, a
    signature's 'T:'/'M:' right before, or a table column whose header is a phone word ('…;Mobil', or a
    space-aligned header word above the value)."""
    before = text[max(0, start - 32) : start]
    return bool(
        _PHONE_CUE.search(before)
        or _LETTER_CUE.search(before)
        or _MSISDN_BEFORE.search(before)
        or _in_column(text, start, _PHONE_WORD)
        or _under_header(text, start, end if end is not None else start + 1, _PHONE_WORD)
    )


def _under_header(text: str, start: int, end: int, word: re.Pattern[str]) -> bool:
    """In a table aligned with spaces (a data frame, a fixed-width report), whether ``word`` heads the column
    the value stands in: a word of one of the three lines above, set apart by two or more spaces, that overlaps
    the value's columns."""
    line_start = text.rfind("\n", 0, start) + 1
    first, last = start - line_start, end - line_start
    above = line_start
    for _ in range(3):
        if above == 0:
            return False
        top = text.rfind("\n", 0, above - 1) + 1
        line = text[top : above - 1]
        if "  " in line:
            for m in re.finditer(r"\S+(?: \S+)*", line):
                if m.start() < last and first < m.end() and word.search(m.group()):
                    return True
        above = top
    return False


def _in_column(text: str, start: int, word: re.Pattern[str]) -> bool:
    """In a CSV-like table (``;``, ``,``, tab or ``|`` separated), whether the header of the value's column holds
    ``word``: the header is the first line of the run of lines holding the separator (a title may stand above)."""
    line = text[text.rfind("\n", 0, start) + 1 : start]
    for sep in _SEPARATORS:
        if sep in line:
            cell = _header_cell(text, start, sep)
            return cell is not None and bool(word.search(cell))
    return False


def _header_cell(text: str, start: int, sep: str, *, rows_start_with_sep: bool = False) -> str | None:
    """The header cell over the value at ``start`` in a table split by ``sep``: the header is the first of the
    run of rows above holding ``sep`` (or starting with it, as a markdown table's rows do), walking up from the
    value's own row; None when the value is in the header row itself or right of its last cell."""
    line_start = text.rfind("\n", 0, start) + 1
    top = line_start
    while top:
        above = text.rfind("\n", 0, top - 1) + 1
        row = text[above : top - 1]
        if not (row.startswith(sep) if rows_start_with_sep else sep in row):
            break
        top = above
    if top == line_start:
        return None
    end = text.find("\n", top)
    cells = text[top : end if end != -1 else len(text)].split(sep)
    column = text.count(sep, line_start, start)
    return cells[column] if column < len(cells) else None


def _repeated_shape(match: str, text: str) -> bool:
    """Whether the text holds four or more numbers written exactly as ``match`` is (digits, separators and
    group lengths alike), as a sheet of recovery codes does; a phone list would carry a phone word or header."""
    shape = re.sub(r"\d+", lambda m: rf"\d{{{len(m.group())}}}", re.escape(match.strip()))
    return len(re.findall(rf"(?<![\d.])(?:{shape})(?![\d])", text)) >= 4


def _plausible_phone(
    match: str, before: str, after: str = "", cued: bool = False, full_text: str = ""
) -> bool:
    """libphonenumber accepts short and placeholder numbers in some region, and any digit run that happens to fit
    a numbering plan; these rules, each from what the digits are written as, reject what is not a phone.
    ``cued``: the writing says "phone" (see ``_phone_cue``)."""
    digits = re.sub(r"\D", "", match)
    international = (
        match.lstrip("(").startswith("+")
        or (match.lstrip("(").startswith("00") and len(digits) >= 11)
        or bool(_MSISDN_BEFORE.search(before))
    )
    stripped = match.strip()
    if len(digits) < 8 and not international:
        return False  # e.g. '37.7749' is a valid short German number and a coordinate
    if len(set(digits)) == 1 or digits in "01234567890" or digits in "98765432109":
        return False  # 123-456-7890, 000-000-0000: placeholders
    if _isbn_like(match, before):
        return False
    if _ID_SHAPE.fullmatch(stripped):
        return False  # '161.376.877-09': a CPF's printed shape, its check digits right or not
    if re.match(r"\d{1,2}\.\s", stripped):
        return False  # '6. 1559 8704': a list's item number, then the item
    if re.search(r"\s(?:\d{1,3}\.){3}\d{1,3}$", stripped):
        return False  # '8968 127.0.0.1': a log's elapsed time, then the client's address
    if not cued and _repeated_shape(match, full_text):
        return False  # '0317 5892' among nine more codes of its shape: a printed list of one-time codes
    if _MASK_AFTER.match(after):
        return False  # '+49 151 •••• ••26': the visible head of a masked number
    if re.search(r"(?<![+\d])\d{4,}[ -]$", before) and not cued:
        return False  # '3691 005104 9973': the tail of a longer run of digit groups (not after '+33 ')
    if stripped.isdigit() and _BARCODE_WORD.search(before[-32:]):
        return False  # '<span itemprop="gtin12">009942536240': a barcode, even when it starts with 00
    if _CODE_PREFIX.search(before) and not _ABBREVIATED_PHONE.search(before[:-1] + "."):
        return False  # RE-2024-079544, M-2020-002373: the tail of a reference code
    if (
        before
        and before[-1] in _GLUED
        and not _ABBREVIATED_PHONE.search(before)
        and not _DIALLED.search(before)
    ):
        return False  # inside a longer token: a DOI, a path, a file name (but 'Tel.+49 ...' is a phone)
    if _TIME_BEFORE.search(before) or _DECIMAL_AFTER.match(after):
        return False  # '08:36:03 2024 -0500' (a clock's seconds onwards), '1726278046.037876' (a decimal)
    assigned = _ASSIGNMENT.search(before)
    if (
        assigned
        and not international
        and not cued
        and not re.search(r"phone|tel|mobil|fax|handy|sms", assigned.group(), re.I)
    ):
        return False  # 'ip_local_port_range = 32768 60999': a setting's value
    if re.fullmatch(r"-?\d{1,3}\.\d{5,}", stripped):
        return False  # '16.829704': a decimal (a longitude), not a number grouped with one dot
    if stripped.count(".") >= 5:
        return False  # six or more dotted groups: an OID (1.3.6.1.2.1.2.2.1.10), not a French 06.12.34.56.78
    if not international and not _dotted_like_a_plan(stripped):
        return False  # '8.13.335.6525', '17.20.544.6789': dotted groups no numbering plan prints
    if stripped.startswith("++"):
        return False  # '+++984/2823/68007+++': a Belgian structured payment reference, never a dial string
    if not international and digits[0] != "0":
        # no trunk 0, so only a plan without one could print it: NANP 10 or 1 + 10 digits, Spanish, Italian
        # mobile and Indian numbers 9-10 ('4985-5992', '16-92-24 21534105' are none, '23415-4412-18873' never)
        if len(digits) > 11 or (len(digits) < 9 and not cued):
            return False
        if "/" in stripped or _EIN.fullmatch(stripped) or _HU_TAX.fullmatch(stripped):
            return False  # '24/0611/0087', '2024/118872': slash-grouped references; 'EIN 84-2271938'
        if _ZIP4.fullmatch(stripped) and not before.rstrip().endswith(")"):
            return False  # '94103-2710': a ZIP+4 code; no plan without a trunk 0 groups 5-4
        if re.fullmatch(r"\d{6}-\d{4}", stripped) and not cued:
            return False  # '971031-7430': a Nordic personal number or a dated reference; no plan prints 6-4
        if re.fullmatch(r"\d{5} \d{5}", stripped) and digits[0] not in "6789":
            return False  # '44830 30741': only Indian mobiles (6-9) are written 5-5 without a trunk 0
    if _TIME_RANGE.fullmatch(stripped):
        return False  # '08.20–09.40': a time slot
    if not international and _BUILD_VERSION.fullmatch(stripped):
        return False  # '115.0.6271.96': a release numbered major.minor.build.patch; no plan groups one digit
    if _CODE_SUFFIX.match(after) or re.match(r"[A-Za-z]", after):
        return False  # '84-6358-074-C', '009575-252K': the digits of a code that goes on past them
    if _cas_number(stripped):
        return False  # '705064-90-0': a CAS registry number, its last digit checking the others
    if _IBAN_HEAD.search(before):
        return False  # the tail of an account number after its 'NL28 ABNA' head
    if not international and _date_like(match):
        return False
    if _IPV4_OR_NETWORK.fullmatch(stripped):
        return (
            False  # a dotted quad of 0-255 without leading zeros, or with a prefix, is an address or network
        )
    if _SSN_SHAPE.fullmatch(stripped):
        return False  # 3-2-4 digits is how an SSN is written, never a phone number
    if not international and stripped.isdigit() and not cued:
        return False  # a bare run of digits with no phone word before it: an id, a count, a timestamp
    return not _ID_CUE.search(before)


#: How a Brazilian CPF (3.3.3-2) or CNPJ (2.3.3/4-2) and a Belgian national number (2.2.2-3.2) are printed: no
#: numbering plan's grouping.
_ID_SHAPE = re.compile(
    r"\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}"
)
_MASK_AFTER = re.compile(r"[ \t]?[•●∙*]")  # on the same line: a bullet on the next one starts a list item
#: A table column of register, device or reference numbers ('SIREN' over a French company's nine digits).
_REFERENCE_HEADER = re.compile(
    r"\b(?:siren|siret|vat|btw|nip|regon|krs|kvk|ein|imei|iccid|serial|isbn|ean|gtin|tracking|order|invoice)\b",
    re.IGNORECASE,
)
_BARCODE_WORD = re.compile(
    r"gtin|\bean|\bupc|barcode|strichcode|code-barres|código\s+de\s+barras", re.IGNORECASE
)
#: Three or more dotted groups with a one-digit group after the first: how releases are numbered (119.0.5481.68).
_BUILD_VERSION = re.compile(r"\d+(?:\.\d+)*\.\d(?:\.\d+)+")
#: Right after a number, a dash and a letter or digit: the number is the head of a longer code.
_CODE_SUFFIX = re.compile(r"-\w")
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
#: How numbers without a trunk prefix are printed with dots: NANP 415.555.0123 (optionally after 1.), Spanish and
#: Portuguese nine-digit numbers 912.345.678, 91.234.56.78, 912.34.56.78.
_DOTTED_PLANS = frozenset({(3, 3, 4), (1, 3, 3, 4), (3, 3, 3), (2, 3, 2, 2), (3, 2, 2, 2)})


def _dotted_like_a_plan(value: str) -> bool:
    """False for a number written with dots only, whose first group has no trunk 0 and whose grouping no
    numbering plan prints that way (a release '8.13.335.6525'); True for everything else."""
    if "." not in value or not re.fullmatch(r"\d+(?:\.\d+)+", value) or value[0] == "0":
        return True
    return tuple(len(g) for g in value.split(".")) in _DOTTED_PLANS


def _cas_number(value: str) -> bool:
    """A CAS registry number: 2-7 digits, 2 digits, then a check digit, the sum of the other digits weighted
    1, 2, 3… from the right, modulo 10 (Chemical Abstracts Service's definition)."""
    m = _CAS.fullmatch(value)
    if m is None:
        return False
    body = m.group(1) + m.group(2)
    return sum(i * int(d) for i, d in enumerate(reversed(body), start=1)) % 10 == int(m.group(3))


#: A US employer identification number (2-7 digits) and a Hungarian tax number (8-1-2): registers, not phones.
_EIN = re.compile(r"\d{2}-\d{7}")
#: A US ZIP+4 code: never an SSN (3-2-4); as a phone it is Brazil's 9XXXX-XXXX mobile too, so there a cue decides.
_ZIP4 = re.compile(r"\d{5}-\d{4}")
#: A German meter id (DIN 43863-5: digit, three-letter maker code, two digits, eight digits) before the digits.
_METER_HEAD = re.compile(r"(?<![\w])\d [A-Z]{3} $")
_HU_TAX = re.compile(r"\d{8}-\d-\d{2}")
_TIME_RANGE = re.compile(r"(?:[01]?\d|2[0-3])[.:h][0-5]\d\s*[–—-]\s*(?:[01]?\d|2[0-3])[.:h][0-5]\d")
_IPV4_OR_NETWORK = re.compile(_IPV4.pattern + r"(?:/\d{1,2})?")  # 02.123.45.67 stays a phone
_TIME_BEFORE = re.compile(r"\d:$")
_DECIMAL_AFTER = re.compile(r"\.\d")  # not ',': in CSV rows a comma and the next field follow a phone
_IBAN_HEAD = re.compile(r"\b[a-z]{2}\d{2}(?: [a-z0-9]{4})* $", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"[\w.]+\s*=\s*\"?$")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")


#: A number right after one of these is part of a longer token (doi:10.1016/j.cell.2020.01.001), not a phone.
_GLUED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./\\")


#: An Asterisk dial string's channel technology: 'Dial(PJSIP/+4420…@trunk)' dials the number after it.
_DIALLED = re.compile(r"\b(?:pjsip|sip|iax2|dahdi|local)/$", re.IGNORECASE)
_CODE_PREFIX = re.compile(r"(?<![A-Za-z0-9_-])(?:[a-z0-9]{1,6}-)*[a-z]{1,5}-$", re.IGNORECASE)  # RE-, 25-SIN-
_ABBREVIATED_PHONE = re.compile(r"(?<![^\W\d_])(?:tel|fax|mob|ph|nr|тел|моб|факс)\.$", re.IGNORECASE)


def _date_like(match: str) -> bool:
    """Holds ``dd.mm.yyyy``, ``d.m.yy``, ``mm/dd/yyyy``, ``dd-mm-yyyy`` (a real day and month in either order) or
    an ISO ``yyyy-mm-dd`` (a date with its time after it, '14.08.2024 16:57', is no phone number either)."""
    for m in _DOTTED_DATE.finditer(match):
        a, b = int(m.group(1)), int(m.group(3))
        if (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31):
            return True
    return any(1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31 for m in _ISO_DATE.finditer(match))


def _mask_like(value: str) -> bool:
    """A netmask (255.255.240.0) or a wildcard mask (0.0.0.255): contiguous bits, not a host's address."""
    if value.count(".") != 3:
        return False  # IPv6
    try:
        bits = int.from_bytes(bytes(int(part) for part in value.split(".")), "big")
    except ValueError:
        return False  # not four octets of 0-255
    inverted = bits ^ 0xFFFFFFFF
    contiguous_ones = bits and (inverted & (inverted + 1)) == 0  # 1…10…0
    contiguous_wildcard = bits and (bits & (bits + 1)) == 0  # 0…01…1
    return bool(contiguous_ones and value.startswith("255.")) or bool(
        contiguous_wildcard and value.startswith("0.")
    )


#: After an address: a prefix length, or whitespace and a dotted quad (a mask, when ``_mask_like`` says so).
_PREFIX_AFTER = re.compile(r"/(\d{1,3})(?!\d)")
_QUAD_AFTER = re.compile(r"\s+(?:(?:net)?mask\s+)?((?:\d{1,3}\.){3}\d{1,3})(?![\d.])", re.IGNORECASE)
#: 'ip address 94.32.155.4 255.255.255.252' gives an interface its address (a host) with the mask after it.
_INTERFACE_CUE = re.compile(r"\b(?:address|addr|inet)\s*[:=]?\s*$", re.IGNORECASE)
_NETWORK_CUE = re.compile(
    r"\b(?:subnet|subnetz|network|netzwerk|netz|réseau|red|rete|netwerk|prefix|präfix|cidr|route)\b[\s.:=…]*$",
    re.IGNORECASE,
)
_BROADCAST_CUE = re.compile(r"\b(?:broadcast|bcast|brd)(?:[- ]?(?:address|adresse|addr))?\W*$", re.IGNORECASE)


def _no_host(text: str, start: int, end: int, before: str) -> bool:
    """The unspecified and loopback addresses (0.0.0.0, ::, 127.0.0.1, ::1), multicast groups, hand-numbered
    link-local addresses, a private or reserved network written with its prefix or mask and no host bits set
    (192.168.0.0/16, fd8e:34ff::/32, 172.16.0.0 255.240.0.0, an ACL's 10.20.0.0 0.0.255.255), a private address
    ending in .255 or named as a broadcast address: none of them is anyone's. '10.0.0.5/24' (an interface) and
    '10.0.0.5/32' are hosts; a public network (85.82.212.0/24, 2600:1700:aff7:a11b::/64) may be one
    organisation's or one subscriber's (an ISP delegates a /48 to /64 per customer), so it stays PII."""
    value, _, prefix = text[start:end].partition("/")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback:
        return True  # 0.0.0.0, '::', 127.0.0.1, '::1': every machine's own, so no one's
    if address.is_multicast:
        return True  # 224.0.0.251, ff02::fb: a group of listeners, no host
    if address.is_link_local:
        # valid on one link only. A 64-bit interface identifier (fe80::1ff:fe23:4567:890a, made by SLAAC from
        # the MAC or a stable hash) follows a device from network to network; a short one (fe80::1,
        # fe80::8827) is numbered by hand the same way on countless links, as is a self-assigned 169.254.x.x
        if address.version == 4:
            return True
        iid = int(address) & 0xFFFF_FFFF_FFFF_FFFF
        return sum((iid >> shift) & 0xFFFF != 0 for shift in (48, 32, 16, 0)) < 3
    if not prefix:
        m = _PREFIX_AFTER.match(text, end)
        prefix = m.group(1) if m else ""
    if address.is_global:
        return False
    if not prefix and address.version == 4 and value.endswith(".255") and not _INTERFACE_CUE.search(before):
        # a private address whose last octet is all ones: the broadcast address of the /24 most such networks
        # are, and a rare host number in a larger one ('ping -c 3 192.168.19.255')
        return True
    if prefix:
        try:
            network = ipaddress.ip_network(f"{value}/{prefix}", strict=True)
        except ValueError:
            # host bits set (or no valid prefix): an interface's address, unless the text calls it a network
            # ('Subnet: 172.28.0.0/12', written loosely for 172.16.0.0/12)
            return bool(_NETWORK_CUE.search(before))
        return network.num_addresses > 1  # a /32 or /128 is one host
    quad = _QUAD_AFTER.match(text, end)
    if quad and address.version == 4 and _mask_like(quad.group(1)) and not _INTERFACE_CUE.search(before):
        mask = int(ipaddress.IPv4Address(quad.group(1)))
        if quad.group(1).startswith("0."):
            mask ^= 0xFFFFFFFF  # a wildcard mask marks the host bits with ones
        return int(address) & ~mask & 0xFFFFFFFF == 0
    return bool(_BROADCAST_CUE.search(before))


#: Right before a dotted quad, these say it is an address, whatever version word came a few words earlier
#: ('fw v5.22.9 dhcp lease 185.131.104.68').
_HOST_CUE = re.compile(
    r"(?<![\w-])(?:ip|ipv4|addr|address|adresse|dirección|direccion|indirizzo|adres|endereço|host|gateway|gw|"
    r"ip[-\s]?(?:adress|adresa|adresi|osoite|cím|címe)|"
    r"dns|lease|leased|src|dst|peer|client|server|inet|nat)\s*[:=]?\s*$",
    re.IGNORECASE,
)


def _version_like(text: str, start: int, before: str) -> bool:
    """A dotted quad right after 'v' (v4.19.0.3), after 'Product/' (Chrome/131.0.0.0 in a user agent) or after a
    version/section word is not an IP address."""
    if "." not in text[start : start + 16]:
        return False  # IPv6: colons only
    if re.search(r"[a-z]/$", before) and not before.endswith("contributions/"):
        # 'Chrome/131.0.0.0' in a user agent, but 'malik/85.82.128.156:24377' (a VPN user and a host:port)
        host = _IPV4.match(text, start)
        return not (host and re.match(r":\d", text[host.end() : host.end() + 2]))
    if start and text[start - 1] in "vV" and (start < 2 or not text[start - 2].isalnum()):
        return True
    if _HOST_CUE.search(before):
        return False
    return (
        bool(_VERSION_CUE.search(before) or _VERSION_CLAUSE.search(text[max(0, start - 120) : start]))
        or _in_version_column(text, start)
        or _in_column(text, start, _VERSION_HEADER)
    )


#: A sentence about a firmware or software version that then introduces the quad as the current/new one
#: ('Firmware update available for your router: current 1.0.9.88, new 1.0.11.136').
_VERSION_CLAUSE = re.compile(
    r"\b(?:firmware|fw|version|release|update|upgrade|software)\b(?:(?!\.\s|;|\n).){0,100}?"
    r"\b(?:current|new|old|installed|latest|previous|running|available|target)\b\W{0,3}$",
    re.IGNORECASE | re.DOTALL,
)
_VERSION_HEADER = re.compile(
    r"\b(?:firmware|fw|version|ver|release|build|software|sw|kernel)\b", re.IGNORECASE
)


def _in_version_column(text: str, start: int) -> bool:
    """In a pipe table (markdown, every row starting with '|'), under a column whose header names a version
    ('| Firmware |')."""
    if not text.startswith("|", text.rfind("\n", 0, start) + 1):
        return False
    cell = _header_cell(text, start, "|", rows_start_with_sep=True)
    return cell is not None and bool(_VERSION_HEADER.search(cell))


def _in_longer_dotted(text: str, start: int, end: int) -> bool:
    """Four dotted groups inside five or more (an OID such as 1.3.6.1.4.1.2620): an IPv4 address has four."""
    after = text[end : end + 2]
    before = text[max(0, start - 2) : start]
    return (len(after) == 2 and after[0] == "." and after[1].isdigit()) or (
        len(before) == 2 and before[1] == "." and before[0].isdigit()
    )


def _isbn_check(chars: str) -> bool:
    """ISBN-10 (weights 10..1, mod 11, 'X' = 10) or ISBN-13 (978/979, weights 1,3, mod 10) check digit."""
    if len(chars) == 10 and chars[:9].isdigit() and (chars[9].isdigit() or chars[9] == "X"):
        total = sum((10 - i) * int(c) for i, c in enumerate(chars[:9]))
        return (total + (10 if chars[9] == "X" else int(chars[9]))) % 11 == 0
    if len(chars) == 13 and chars.isdigit() and chars.startswith(("978", "979")):
        return sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(chars)) % 10 == 0
    return False


def _isbn_like(match: str, before: str) -> bool:
    """A valid ISBN check digit, and either an 'ISBN' label or ISBN hyphenation (the check digit alone last)."""
    chars = re.sub(r"[\s-]", "", match).upper()
    if not _isbn_check(chars):
        return False
    if re.search(r"isbn(?:-1[03])?\W*$", before):
        return True
    groups = re.split(r"[\s-]+", match.strip())
    return len(groups) in (4, 5) and len(groups[-1]) == 1


def _every_occurrence(text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
    """A value found once is PII wherever else the text repeats it ('Note: 663711149' beside 'BSN: 663711149'):
    leaving a copy would leak what was redacted."""
    out = list(spans)
    for s in spans:
        value = text[s.start : s.end]
        if len(value) < 6:
            continue
        at = text.find(value)
        while at != -1:
            end = at + len(value)
            glued = text[at - 1 : at].isalnum() or text[end : end + 1].isalnum()
            if not glued and all(end <= o.start or at >= o.end for o in out):
                out.append(PiiSpan(s.kind, at, end, s.score, s.entity))
            at = text.find(value, at + 1)
    return sorted(out, key=lambda s: s.start) if len(out) > len(spans) else spans


def _resolve(spans: list[PiiSpan]) -> list[PiiSpan]:
    """Keep the most confident (then longest) span wherever two overlap."""
    chosen: list[PiiSpan] = []
    for s in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


# -- recognizers of our own ---------------------------------------------------------------------------

#: ISO/IEC 7812 issuer identification ranges per network (first digits, inclusive) and the PAN lengths each
#: network issues. A candidate must fall in one range at one of its lengths *and* pass the Luhn check.
_IIN_RANGES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("300", "305", (14, 16, 17, 18, 19)),  # Diners Club International
    ("3095", "3095", (14, 16, 17, 18, 19)),
    ("36", "36", (14, 16, 17, 18, 19)),
    ("38", "39", (14, 16, 17, 18, 19)),
    ("6011", "6011", (16, 17, 18, 19)),  # Discover
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),
    ("3528", "3589", (16, 17, 18, 19)),  # JCB
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
    ("2200", "2204", (16, 17, 18, 19)),  # Mir
    ("9792", "9792", (16,)),  # Troy
    ("81", "82", (16,)),  # RuPay (its 60, 65 and 508 ranges are covered above)
    ("50", "50", tuple(range(12, 20))),  # Maestro
    ("56", "69", tuple(range(12, 20))),
)
#: 12 to 19 digits in any grouping by single spaces or dashes, not part of a longer run of digit groups.
_PAN = re.compile(r"(?<!\d)(?<!\d[.,])(?<!\d[ -])\d(?:[ -]?\d){11,18}(?![ -]?\d)(?![.,]\d{1,2}(?!\d))")


def _imei_like(match: str) -> bool:
    """15 digits no network issues (by ``_IIN_RANGES``: only American Express's 34/37): an IMEI, which is 15
    digits with a Luhn check digit too, not a card. presidio's pattern takes any 15 digits."""
    digits = re.sub(r"\D", "", match)
    return len(digits) == 15 and not _card_number(digits)


def _card_grouping(value: str) -> bool:
    """Cards are printed in one run or in groups of four or more (4-4-4-4, Amex 4-6-5), the last group maybe
    shorter; '57-25-57 84948772' (a UK sort code and account) is no card however its digits check."""
    groups = re.split(r"[ -]", value)
    return all(len(g) >= 4 for g in groups[:-1])


def _gtin_like(match: str, before: str) -> bool:
    """12 or 13 digits in one run with a valid GS1 check digit (UPC-A, EAN-13) and no card word before them: a
    barcode. Cards of those lengths are all but gone (Visa's 13-digit numbers, the odd 12-digit Maestro)."""
    if not (match.isdigit() and len(match) in (12, 13)) or _CARD_WORD.search(before[-32:]):
        return False
    body, check = match[:-1], int(match[-1])
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - weighted % 10) % 10 == check


_CARD_WORD = re.compile(
    r"card|karte|carte|tarjeta|carta|kaart|karta|cartão|visa|mastercard|maestro|pan\b", re.I
)


def _inside_digit_groups(text: str, start: int, end: int) -> bool:
    return bool(
        re.search(r"\d[ -]$", text[max(0, start - 2) : start]) and re.match(r"[ -]\d", text[end : end + 2])
    )


def _registered_length(value: str) -> bool:
    """An IBAN as long as the SWIFT registry says its country's are (True for a country it does not list)."""
    compact = re.sub(r"[\s-]", "", value).upper()
    length = _IBAN_LENGTH.get(compact[:2])
    return length is None or len(compact) == length


def _no_issuer(digits: str) -> bool:
    """Card networks issue from major industry identifiers 2-6 (and Troy 9792, RuPay 81-82): a Luhn-valid run
    starting with 0, 1, 7, 8 or 9 outside those is a timestamp or a trace number ('1740361835879544')."""
    return digits[:1] not in ("2", "3", "4", "5", "6") and not _card_number(digits)


def _card_number(digits: str) -> bool:
    if not national_ids.luhn(digits):
        return False
    return any(len(digits) in lengths and lo <= digits[: len(lo)] <= hi for lo, hi, lengths in _IIN_RANGES)


class IinCardRecognizer:
    """Card numbers by issuer range and issued length, in any grouping, Luhn-checked (presidio's interface)."""

    supported_entities: ClassVar[list[str]] = ["CREDIT_CARD"]
    context: ClassVar[list[str]] = ["credit", "card", "visa", "mastercard", "amex", "pan", "payment", "debit"]

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        out = []
        for m in _PAN.finditer(text):
            if _card_grouping(m.group()) and _card_number(re.sub(r"\D", "", m.group())):
                out.append(RecognizerResult("CREDIT_CARD", m.start(), m.end(), 1.0))
        return out


class PossiblePhoneRecognizer:
    """Numbers that are *possible* (right length for the numbering plan) when the writing says "phone".

    libphonenumber's valid-number check also wants the number range to be assigned today, so a real number in a
    newly opened or reserved block (Ofcom's 07700 900xxx, say) fails it. A number written with an international
    prefix (+44, 0044) or right after a phone word is a phone number by how it is written; for those, the
    plan's length rules are enough.
    """

    supported_entities: ClassVar[list[str]] = ["PHONE_NUMBER"]
    context: ClassVar[list[str]] = []

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = tuple(regions)

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        import phonenumbers
        from presidio_analyzer import RecognizerResult

        seen: dict[tuple[int, int], Any] = {
            m.span(1): RecognizerResult("PHONE_NUMBER", m.start(1), m.end(1), 0.5)
            for m in _SIP_USER.finditer(text)
        }
        # an international number parses the same from any region: one pass; the per-region passes only
        # run when a phone word is present at all. A region's exit code decides whether '00 44 …' reads as
        # international, so a number written with 00 also gets a pass from a region dialling out with 00.
        regions = (
            self.regions if _PHONE_WORD.search(text) or _LETTER_CUE_ANY.search(text) else self.regions[:1]
        )
        if len(regions) == 1 and _EXIT_00.search(text):
            regions += tuple(r for r in self.regions if r not in _NANP)[:1]
        for region in regions:
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
                raw = m.raw_string.lstrip("(")
                # '+' or the ITU 00 exit code before a country code, not digits glued to a word (0xC0000005)
                international = bool(re.match(r"\+|00 ?[1-9]", raw)) and not (
                    m.start
                    and re.match(r"[A-Za-z0-9]", text[m.start - 1])  # '発信元+33 …' is glued to no token
                )
                if (m.start, m.end) in seen or not (international or _phone_cue(text, m.start, m.end)):
                    continue
                seen[(m.start, m.end)] = RecognizerResult("PHONE_NUMBER", m.start, m.end, 0.5)
        for e164 in _MSISDN.finditer(text):  # E.164 without its '+': possible from its own country code
            try:
                number = phonenumbers.parse("+" + e164.group(1))
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                span = e164.span(1)
                seen.setdefault(span, RecognizerResult("PHONE_NUMBER", span[0], span[1], 0.5))
        return list(seen.values())


class DottedPortAddressRecognizer:
    """The addresses of a tcpdump line, which writes the port after a dot ('IP 124.244.220.140.22553 >
    224.0.0.251.5353:', 'IP6 fe80::…:83ff.27826 > ff02::fb.5353:'): five dotted groups that are no OID."""

    supported_entities: ClassVar[list[str]] = ["IP_ADDRESS_PORT"]
    context: ClassVar[list[str]] = []

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        if " > " not in text:
            return []
        out = []
        for m in _TCPDUMP.finditer(text):
            for side in (1, 2):
                try:
                    ipaddress.ip_address(m.group(side))
                except ValueError:
                    continue
                out.append(RecognizerResult("IP_ADDRESS_PORT", m.start(side), m.end(side), 0.6))
        return out


_TCPDUMP = re.compile(r"\bIP6? ([0-9A-Fa-f:.]+?)\.\d{1,5} > ([0-9A-Fa-f:.]+?)\.\d{1,5}:")


class GluedAddressRecognizer:
    """IP addresses written against Japanese, Chinese, Korean or Thai text ('IP 주소158.226.148.21'), where
    presidio's word boundaries do not fall: a letter of those scripts is no part of an address."""

    supported_entities: ClassVar[list[str]] = ["IP_ADDRESS"]
    context: ClassVar[list[str]] = []

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        if text.isascii():
            return []
        out = []
        for m in _GLUED_ADDRESS.finditer(text):
            start, end = m.span()
            beside = text[start - 1 : start] + text[end : end + 1]
            if beside.isascii():
                continue  # presidio's own pattern sees it
            try:
                ipaddress.ip_interface(m.group())
            except ValueError:
                continue
            out.append(RecognizerResult("IP_ADDRESS", start, end, 0.6))
        return out


_GLUED_ADDRESS = re.compile(
    r"(?<![0-9A-Za-z.:])(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?:/\d{1,3})?"
    r"(?![0-9A-Za-z:]|\.\d)"
)


class _ColumnGaps:
    """Runs a phone recognizer with every run of two or more spaces read as a column break.

    libphonenumber takes single and double spaces alike as a number's separators, so in a space-aligned table
    ('Emre  +90 212 996 99 59  0.870') the next column's digits join the number and spoil it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.supported_entities = inner.supported_entities
        self.context = inner.context

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        if "  " in text:
            text = _COLUMN_GAP.sub(lambda m: "\t" * len(m.group()), text)
        return list(self.inner.analyze(text, entities, nlp_artifacts))


_COLUMN_GAP = re.compile(r" {2,}")

#: ``00`` then a country code, as written outside North America; the NANP dials out with 011.
_EXIT_00 = re.compile(r"(?<![\w+])00 ?[1-9]")
_NANP = frozenset({"US", "CA"})

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
#: A DNI/NIF written with thousands dots (12.345.678-Z) or an NIE with a dash or space after its letter
#: (Y-1234567-L): presidio's patterns only take the unpunctuated forms.
_SPANISH_ID = re.compile(
    r"(?<![\w.])(?:(\d{1,2}\.\d{3}\.\d{3}|\d{8}(?=[ -]))|([XYZ])[ -](\d{7}))[ -]?([A-Z])(?![\w])"
)


class PunctuatedSpanishIdRecognizer:
    """Spanish DNI/NIF and NIE in their punctuated forms, accepted only with the right mod-23 letter."""

    supported_entities: ClassVar[list[str]] = ["ES_NIF_NIE"]
    context: ClassVar[list[str]] = ["dni", "nif", "nie"]

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        out = []
        for m in _SPANISH_ID.finditer(text):
            dni, prefix, nie = m.group(1), m.group(2), m.group(3)
            number = int(dni.replace(".", "")) if dni else "XYZ".index(prefix) * 10_000_000 + int(nie)
            if _DNI_LETTERS[number % 23] == m.group(4):
                out.append(RecognizerResult("ES_NIF_NIE", m.start(), m.end(), 1.0))
        return out


class _CuedNumberRecognizer:
    """A fixed-length number with a check digit that counts only where its scheme is named: right before it,
    or anywhere in the same value as a table's column header or a record's identifier system (``| PESEL |``,
    ``.../NamingSystem/bsn``). A field named for national ids in general (``national_id``, ``tax_id``,
    "national number") names every scheme.

    Nine or eleven random digits pass such a check one time in ten or eleven, so where the scheme is not named
    an order or invoice number would too often read as an identity number. Only a scheme's own punctuated
    form (``self_evident``: a CPF's 123.456.789-09, a henkilötunnus's century sign and check letter) counts on
    its own."""

    #: The scheme's name as a whole word anywhere in the value (a header, an identifier system).
    named: ClassVar[re.Pattern[str]]

    supported_entities: ClassVar[list[str]]
    context: ClassVar[list[str]] = []
    cue: ClassVar[re.Pattern[str]]
    digits: ClassVar[int]
    #: Other ways the scheme groups its digits, e.g. (4, 2, 3) with dots for a BSN.
    groupings: ClassVar[tuple[tuple[int, ...], ...]] = ()
    #: The candidate's shape as a regular expression, where digits and groupings cannot say it.
    shape: ClassVar[str | None] = None
    #: A written form that is the scheme's own and counts without its name nearby (after its check passes).
    self_evident: ClassVar[re.Pattern[str] | None] = None

    def __init__(self) -> None:
        body = self.shape or "|".join(
            [rf"\d{{{self.digits}}}"]
            + [r"[. -]".join(rf"\d{{{n}}}" for n in grouping) for grouping in self.groupings]
        )
        # boundaries in ASCII: Chinese and Japanese text glues to a number ('CPF是899.782.459-79です')
        self._number = re.compile(rf"(?<![A-Za-z0-9_.,-])(?:{body})(?![A-Za-z0-9_]|[.,-]?\d)")

    def valid(self, number: str) -> bool:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        out = []
        for m in self._number.finditer(text):
            window = text[max(0, m.start() - 40) : m.start()]
            evident = self.self_evident is not None and self.self_evident.fullmatch(m.group())
            if not (evident or self.cue.search(window) or _ANY_ID_CUE.search(window)):
                # farther before it in the same record (an identifier system's URL), or as its column's header;
                # not after it: in '{"id": 816751938, …, "ssn": …}' the key names another value
                after = text[m.end() : m.end() + 32].partition("\n")[0]  # '97122463392 – numer PESEL'
                named = bool(
                    self.named.search(text[max(0, m.start() - 160) : m.start()]) or self.named.search(after)
                ) or any(
                    _in_column(text, m.start(), word) or _under_header(text, m.start(), m.end(), word)
                    for word in (self.named, _ANY_ID_NAMED)
                )
                if not named:
                    continue
            if self.valid(m.group()):
                out.append(RecognizerResult(self.supported_entities[0], m.start(), m.end(), 1.0))
        return out


#: Field names and phrases for national identity numbers in general: every scheme's number counts after them.
_ANY_ID_WORDS = (
    r"national[\s_-]?id(?:entity|entification)?(?:[\s_-]?(?:number|no|nr|code))?|national[\s_-]?number|"
    r"personal[\s_-]?id(?:entity)?(?:[\s_-]?(?:number|no|code))?|identity[\s_-]?(?:number|no)|tax[\s_-]?id|"
    r"nationalid|personalid|taxid"
)


class PeselRecognizer(_CuedNumberRecognizer):
    """Polish PESEL: 11 digits, a birth date (month + 20/40/60/80 by century), check digit by weights 1379."""

    supported_entities: ClassVar[list[str]] = ["PL_PESEL"]
    cue = re.compile(r"\bpesel\b\W{0,3}(?:\w+\W{1,3}){0,2}$", re.IGNORECASE)
    named = re.compile(r"\bpesel\b", re.IGNORECASE)
    digits = 11

    def valid(self, number: str) -> bool:
        number = re.sub(r"\D", "", number)
        month, day = int(number[2:4]) % 20, int(number[4:6])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return False
        total = sum(int(d) * w for d, w in zip(number[:10], (1, 3, 7, 9) * 3, strict=False))
        return (10 - total % 10) % 10 == int(number[10])


class BsnRecognizer(_CuedNumberRecognizer):
    """Dutch burgerservicenummer: 9 digits passing the "elfproef" (weights 9..2 and -1, sum divisible by 11)."""

    supported_entities: ClassVar[list[str]] = ["NL_BSN"]
    cue = re.compile(
        r"\b(?:bsn|burgerservicenummer|sofi-?nummer)\b\W{0,3}(?:\w+\W{1,3}){0,2}$", re.IGNORECASE
    )
    named = re.compile(r"\b(?:bsn|burgerservicenummer|sofi-?nummer)\b", re.IGNORECASE)
    digits = 9
    groupings = ((4, 2, 3), (3, 3, 3))

    def valid(self, number: str) -> bool:
        number = re.sub(r"\D", "", number)
        total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True)) - int(number[8])
        return total % 11 == 0 and number != "000000000"


class SsnRecognizer(_CuedNumberRecognizer):
    """A US SSN written as nine bare digits, right after its name; presidio's patterns want the dashes."""

    supported_entities: ClassVar[list[str]] = ["US_SSN_DIGITS"]
    cue = re.compile(
        r"\b(?:ssn|social\s+security(?:\s+(?:number|no))?|taxpayer\s+identification\s+number|tin)\b"
        r"\W{0,4}(?:\w+\W{1,3}){0,2}$",
        re.IGNORECASE,
    )
    named = re.compile(r"\b(?:ssn|social\s+security\s+(?:number|no))\b", re.IGNORECASE)
    digits = 9

    def valid(self, number: str) -> bool:
        number = re.sub(r"\D", "", number)
        area, group, serial = number[:3], number[3:5], number[5:]
        return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _cue(words: str, alnum: str = "A-Za-z0-9") -> re.Pattern[str]:
    """A scheme's name right before its number, with up to two words between (``CPR-nr.: ``, or a chat's ``NIF?`` then ``user:``).

    ``alnum`` is the class (inside ``[...]``) a name may not touch on either side: ASCII letters and digits for a
    scheme's own names, ``^\\W_`` (any letter or digit) for the general national-id words.
    """
    return re.compile(
        rf"(?<![{alnum}])(?:{words})(?![{alnum}])\W{{0,4}}(?:\w+\W{{1,3}}){{0,2}}$", re.IGNORECASE
    )


def _named(words: str, alnum: str = "A-Za-z0-9") -> re.Pattern[str]:
    return re.compile(rf"(?<![{alnum}])(?:{words})(?![{alnum}])", re.IGNORECASE)


_ANY_ID_CUE = _cue(_ANY_ID_WORDS, alnum=r"^\W_")
_ANY_ID_NAMED = _named(_ANY_ID_WORDS, alnum=r"^\W_")


_SE_WORDS = r"personnummer|personnr|pers\.?\s?nr|samordningsnummer|personal\s+identity\s+number"
_DK_WORDS = r"cpr(?:[\s.-]?(?:nr|nummer|number|no))?|personnummer"
_NO_WORDS = r"fødselsnummer|fodselsnummer|fødselsnr|fodselsnr|f\.?\s?nr|personnummer|d-nummer"
_FI_WORDS = r"henkilötunnus|henkilotunnus|hetu|sotu|personbeteckning"
_BE_WORDS = (
    r"rijksregisternummer|rijksregister|registre\s+national|num[ée]ro\s+national|n[°º]\s*national|"
    r"insz|niss|rrn|nationaal\s+nummer"
)
_PT_WORDS = r"nif|contribuinte|n\.?[°º]?\s*contribuinte"
_FR_WORDS = r"nir|s[ée]curit[ée]\s+sociale|s[ée]cu|insee|carte\s+vitale"
_BR_WORDS = r"cpf|cadastro\s+de\s+pessoas?\s+f[íi]sicas?"
_IN_WORDS = r"aadhaar|aadhar|uidai|आधार"


def _scheme(
    name: str,
    entity: str,
    words: str,
    shape: str,
    check: Callable[[str], bool],
    evident: str | None = None,
    doc: str = "",
) -> type[_CuedNumberRecognizer]:
    """A national-id recognizer: ``shape`` the candidate, ``check`` the scheme's rule, ``words`` its names,
    ``evident`` the printed form that counts without a name."""
    return type(
        name,
        (_CuedNumberRecognizer,),
        {
            "__doc__": doc,
            "supported_entities": [entity],
            "cue": _cue(words),
            "named": _named(words),
            "shape": shape,
            "self_evident": re.compile(evident) if evident else None,
            "valid": lambda self, number: check(number),
        },
    )


SwedishPersonnummerRecognizer = _scheme(
    "SwedishPersonnummerRecognizer",
    "SE_PERSONNUMMER",
    _SE_WORDS,
    r"(?:1[89]|20)?\d{6}[-+ ]?\d{4}",
    national_ids.se_personnummer,
    doc="Swedish personnummer, [CC]YYMMDD-NNNC, named (Luhn and a real birth date).",
)
DanishCprRecognizer = _scheme(
    "DanishCprRecognizer",
    "DK_CPR",
    _DK_WORDS,
    r"\d{6}[- ]?\d{4}",
    national_ids.dk_cpr,
    doc="Danish CPR number, DDMMYY-SSSS, named (a real birth date; since 2007 no check digit).",
)
NorwegianFodselsnummerRecognizer = _scheme(
    "NorwegianFodselsnummerRecognizer",
    "NO_FODSELSNUMMER",
    _NO_WORDS,
    r"\d{6} ?\d{5}",
    national_ids.no_fodselsnummer,
    doc="Norwegian fødselsnummer or D-number, DDMMYY IIIKK, named (two modulus-11 check digits).",
)
FinnishHetuRecognizer = _scheme(
    "FinnishHetuRecognizer",
    "FI_HETU",
    _FI_WORDS,
    r"\d{6}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]",
    national_ids.fi_hetu,
    evident=r"\d{6}[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]",
    doc="Finnish henkilötunnus, DDMMYY±NNNC: its century sign and check character make it evident.",
)
BelgianNationalNumberRecognizer = _scheme(
    "BelgianNationalNumberRecognizer",
    "BE_NATIONAL_NUMBER",
    _BE_WORDS,
    r"\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}[-. ]?\d{2}",
    national_ids.be_national_number,
    evident=r"\d{2}\.\d{2}\.\d{2}[-. ]\d{3}[-.]\d{2}|\d{6}-\d{3}\.\d{2}",
    doc="Belgian national register number, YY.MM.DD-SSS.CC (evident when punctuated so), else named.",
)
PortugueseNifRecognizer = _scheme(
    "PortugueseNifRecognizer",
    "PT_NIF",
    _PT_WORDS,
    r"[1-3]\d{8}|[1-3]\d{2} \d{3} \d{3}",
    national_ids.pt_nif,
    doc="Portuguese NIF of a person (first digit 1-3), named (modulus-11 check digit).",
)
FrenchNirRecognizer = _scheme(
    "FrenchNirRecognizer",
    "FR_NIR",
    _FR_WORDS,
    r"[1-478] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}",
    national_ids.fr_nir,
    evident=r"[1-478] \d{2} \d{2} (?:\d{2}|2[AB]) \d{3} \d{3} \d{2}",
    doc="French NIR (social security number) with its key: evident in its printed grouping, else named.",
)
BrazilianCpfRecognizer = _scheme(
    "BrazilianCpfRecognizer",
    "BR_CPF",
    _BR_WORDS,
    r"\d{3}\.?\d{3}\.?\d{3}-?\d{2}",
    national_ids.br_cpf,
    evident=r"\d{3}\.\d{3}\.\d{3}-\d{2}",
    doc="Brazilian CPF: evident as 123.456.789-09, else named (two check digits).",
)
AadhaarRecognizer = _scheme(
    "AadhaarRecognizer",
    "IN_AADHAAR",
    _IN_WORDS,
    r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}",
    national_ids.in_aadhaar,
    doc="Indian Aadhaar number, named (Verhoeff check digit, first digit 2-9).",
)


_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21) * 2 + (2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)
#: A codice fiscale, its groups optionally spaced (BNC CHR 66S58 L736B); digit places may hold omocodia letters.
_FISCAL_CODE = re.compile(
    r"(?<![A-Z0-9])([A-Z]{3}) ?([A-Z]{3}) ?([0-9LMNPQRSTUV]{2}[A-EHLMPRST][0-9LMNPQRSTUV]{2}) ?"
    r"([A-Z][0-9LMNPQRSTUV]{3}) ?([A-Z])(?![A-Z0-9])",
    re.IGNORECASE,
)


def _fiscal_code_ok(code: str) -> bool:
    code = code.upper()
    total = sum(
        _CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
        for i, c in enumerate(code[:15])
    )
    return chr(65 + total % 26) == code[15]


class FiscalCodeRecognizer:
    """Italian codice fiscale, compact or spaced, only with the right check character.

    presidio's recognizer treats a wrong check character as "unknown" rather than invalid, so a context word
    let a broken code through; this one decides by the check character alone."""

    supported_entities: ClassVar[list[str]] = ["IT_FISCAL_CODE"]
    context: ClassVar[list[str]] = []

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        return [
            RecognizerResult("IT_FISCAL_CODE", m.start(), m.end(), 1.0)
            for m in _FISCAL_CODE.finditer(text)
            if _fiscal_code_ok("".join(m.groups()))
        ]


#: An IBAN whose groups are set apart by runs of spaces (OCR, justified print): presidio takes single spaces.
_SPACED_IBAN = re.compile(
    r"(?:(?<![A-Z0-9])|(?<=IBAN))([A-Z]{2})( ?)\d{2}[A-Z0-9]{0,4}(?:(?: {1,3}[A-Z0-9]{1,12}){1,10}|[A-Z0-9]{7,30})"
    r"(?![A-Z0-9])",
    re.IGNORECASE,
)
#: IBAN length per country (the SWIFT IBAN registry).
_IBAN_REGISTRY = """
AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29
ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20
LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29
RO24 RS22 SA24 IR26 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20
"""
_IBAN_LENGTH = {entry[:2]: int(entry[2:]) for entry in _IBAN_REGISTRY.split()}


class SpacedIbanRecognizer:
    """IBANs with irregular spacing or in lower case, accepted only with their country's length and a valid
    ISO 7064 mod-97 check."""

    supported_entities: ClassVar[list[str]] = ["IBAN_CODE"]
    context: ClassVar[list[str]] = []

    def analyze(self, text: str, entities: Sequence[str], nlp_artifacts: Any = None) -> list[Any]:
        from presidio_analyzer import RecognizerResult

        out = []
        for m in _SPACED_IBAN.finditer(text):
            country, gap = m.group(1), m.group(2)
            length = _IBAN_LENGTH.get(country.upper())
            if length is None or (gap and not country.isupper()):
                continue  # 'de 12 …' in prose: a country code set apart from its check digits is written in capitals
            # the groups up to the country's length: words after the account ('… 1257 den 25:e') are not part of it
            end, compact = m.start(), ""
            for g in re.finditer(r"[A-Z0-9]+", m.group(), re.IGNORECASE):
                compact += g.group().upper()
                end = m.start() + g.end()
                if len(compact) >= length:
                    break
            if len(compact) == length and _mod97(compact):
                out.append(RecognizerResult("IBAN_CODE", m.start(), end, 1.0))
        return out


def _mod97(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
