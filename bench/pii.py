"""Precision and recall of the PII scrubber on the labelled fixture set, per kind and overall.

    python bench/pii.py                 # readable table
    python bench/pii.py --json out.json # the same figures as JSON

The peer in the same run is a plain-regex scrubber of the kind often written by hand (no checksums, no
phone-number metadata, no context), so the table shows what validation buys. The labelled set lives in
tests/fixtures/pii/ (see make_fixture.py there); the scrubber's cue rules were tuned on this same set,
so these are in-sample figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from vectorrouter.compliance.pii import STRUCTURED, PiiScrubber, PiiSpan
from vectorrouter.compliance.pii_eval import PiiEvaluation, evaluate, load_labelled

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pii" / "labelled.jsonl"
NAIVE = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "card": re.compile(r"\b(?:\d[ -]?){13,19}\b"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),
    "national_id": re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b[A-Z]{2}\d{6}[A-D]\b|\b\d{8}[A-Z]\b"),
    "ip": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f:]*\b", re.IGNORECASE),
    "phone": re.compile(r"(?:\+\d{1,3}[ -]?)?(?:\(\d{2,4}\)[ -]?)?\d{2,4}[ -]\d{2,4}[ -]?\d{2,4}"),
}


def naive_detect(text: str) -> list[PiiSpan]:
    spans = [
        PiiSpan(kind, m.start(), m.end(), 1.0, kind) for kind, rx in NAIVE.items() for m in rx.finditer(text)
    ]
    chosen: list[PiiSpan] = []
    for s in sorted(spans, key=lambda s: -(s.end - s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def table(name: str, ev: PiiEvaluation, seconds: float, n: int, *, redacted: bool = False) -> list[str]:
    lines = [
        f"\n{name}  ({n / seconds:,.0f} strings/s)",
        f"{'kind':<12} {'prec':>6} {'recall':>6} {'tp':>4} {'fp':>4} {'fn':>4}",
    ]
    for kind, s in sorted(ev.kinds.items()):
        lines.append(f"{kind:<12} {s.precision:>6.3f} {s.recall:>6.3f} {s.tp:>4} {s.fp:>4} {s.fn:>4}")
    for label, s in (("structured", ev.total(STRUCTURED)), ("overall", ev.total())):
        lines.append(f"{label:<12} {s.precision:>6.3f} {s.recall:>6.3f} {s.tp:>4} {s.fp:>4} {s.fn:>4}")
    if redacted:
        lines.append(f"labelled values still present after redaction: {len(ev.leaks)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--fixture", default=str(FIXTURE))
    parser.add_argument("--show-errors", action="store_true", help="list every false positive and miss")
    args = parser.parse_args(argv)
    rows = load_labelled(args.fixture)
    positives = sum(1 for r in rows if r["pii"])
    print(f"{len(rows)} labelled strings ({positives} with PII, {len(rows) - positives} look-alikes)")

    started = time.perf_counter()
    scrubber = PiiScrubber()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = evaluate(rows, scrubber.detect)
    ours_s = time.perf_counter() - started
    ours.leaks = evaluate(rows, lambda t: [], scrubber.redact).leaks
    started = time.perf_counter()
    naive = evaluate(rows, naive_detect)
    naive_s = time.perf_counter() - started

    out = table("vectorrouter PiiScrubber (presidio recognizers)", ours, ours_s, len(rows), redacted=True)
    out += table("peer: plain regexes", naive, naive_s, len(rows))
    print("\n".join(out))
    print(f"\nscrubber construction (imports presidio/spaCy once per process): {load_s:.1f}s")
    target = ours.total(STRUCTURED)
    verdict = target.recall >= 0.98 and ours.total().precision >= 0.95
    print(f"targets (structured recall >= 0.98, precision >= 0.95): {'met' if verdict else 'NOT met'}")
    if args.show_errors:
        print("\n".join(["", "false positives:", *ours.false_positives]))
    if args.json:
        payload = {
            "fixture": str(args.fixture),
            "strings": len(rows),
            "scrubber": {**ours.as_dict(), "strings_per_second": len(rows) / ours_s, "load_seconds": load_s},
            "peer_plain_regex": {**naive.as_dict(), "strings_per_second": len(rows) / naive_s},
            "targets_met": verdict,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
