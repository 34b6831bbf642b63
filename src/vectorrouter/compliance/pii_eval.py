"""Precision and recall of a PII detector on a labelled set (used by ``bench/pii.py`` and the tests).

A labelled row is ``{"text": ..., "pii": [[kind, value], ...]}``. A detected span is a true positive when
it overlaps a labelled value of the same kind; every labelled value no detection overlaps is a miss.
A *leak* is a labelled value still present verbatim after redaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectorrouter.compliance.pii import STRUCTURED, PiiSpan

__all__ = ["KindScore", "PiiEvaluation", "evaluate", "load_labelled"]


def load_labelled(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


@dataclass
class KindScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class PiiEvaluation:
    kinds: dict[str, KindScore] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    #: Labelled values no span of their kind overlapped, as ``kind: 'value' in 'text'``.
    misses: list[str] = field(default_factory=list)

    def total(self, kinds: Iterable[str] | None = None) -> KindScore:
        wanted = set(kinds) if kinds is not None else set(self.kinds)
        out = KindScore()
        for k, s in self.kinds.items():
            if k in wanted:
                out.tp, out.fp, out.fn = out.tp + s.tp, out.fp + s.fp, out.fn + s.fn
        return out

    def as_dict(self) -> dict[str, Any]:
        def row(s: KindScore) -> dict[str, float | int]:
            return {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": s.precision, "recall": s.recall}

        return {
            "kinds": {k: row(s) for k, s in sorted(self.kinds.items())},
            "structured": row(self.total(STRUCTURED)),
            "overall": row(self.total()),
            "leaks": len(self.leaks),
        }


def _spans(text: str, labels: Sequence[Sequence[str]]) -> list[tuple[str, int, int]]:
    """Every occurrence of every labelled value: a value written twice is PII twice, and redacting its second
    occurrence is no false positive (missing it is a miss)."""
    out: list[tuple[str, int, int]] = []
    for kind, value in dict.fromkeys((k, v) for k, v in labels):
        start = text.index(value)
        while start != -1:
            out.append((kind, start, start + len(value)))
            start = text.find(value, start + len(value))
    return out


def evaluate(
    rows: Sequence[Mapping[str, Any]],
    detect: Callable[[str], Sequence[PiiSpan]],
    redact: Callable[[str], str] | None = None,
) -> PiiEvaluation:
    result = PiiEvaluation()
    for row in rows:
        text = row["text"]
        gold = _spans(text, row["pii"])
        found = detect(text)
        matched_gold: set[int] = set()
        for span in found:
            hit = [
                i for i, (k, s, e) in enumerate(gold) if k == span.kind and span.start < e and s < span.end
            ]
            score = result.kinds.setdefault(span.kind, KindScore())
            if hit:
                score.tp += 1
                matched_gold.update(hit)
            else:
                score.fp += 1
                result.false_positives.append(f"{span.kind}: {text[span.start : span.end]!r} in {text!r}")
        for i, (kind, start, end) in enumerate(gold):
            if i not in matched_gold:
                result.kinds.setdefault(kind, KindScore()).fn += 1
                result.misses.append(f"{kind}: {text[start:end]!r} in {text!r}")
        if redact is not None:
            red = redact(text)
            result.leaks += [value for _, value in row["pii"] if value in red]
    return result
