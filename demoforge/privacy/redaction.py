"""Collector-side redaction: find PII and secrets in text and replace them.

Every span found is replaced by a typed placeholder (``[EMAIL]``, ``[CARD]``
...) so that a model trained on the data still learns *that* a field took an
e-mail address, without ever seeing one. Findings carry positions and kinds,
never the matched text, so that logging them leaks nothing.

Detection is Presidio's ``AnalyzerEngine`` with the ``no_op`` NLP engine
(regexes, checksums and the phonenumbers library; no spaCy model, nothing
downloaded) and the recognizers in :mod:`demoforge.privacy.recognizers`.
Presidio reports overlapping candidates (a phone number inside a card
number, a "URL" inside an e-mail address); overlapping findings are merged
into one span labelled by the longest, so nothing in the union leaks.

Many short texts (all element texts of one DOM snapshot, all values of one
batch) are analysed in one Presidio call, joined by a separator, because a
call costs about the same for one string as for a thousand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from demoforge.privacy.recognizers import build_recognizers

#: The placeholder each entity kind is replaced with.
PLACEHOLDERS: dict[str, str] = {
    "EMAIL_ADDRESS": "[EMAIL]",
    "PHONE_NUMBER": "[PHONE]",
    "CREDIT_CARD": "[CARD]",
    "IBAN_CODE": "[IBAN]",
    "US_SSN": "[NATIONAL_ID]",
    "UK_NINO": "[NATIONAL_ID]",
    "ES_NIF": "[NATIONAL_ID]",
    "API_KEY": "[API_KEY]",
    "JWT": "[TOKEN]",
    "SECRET": "[SECRET]",
}

#: Findings scoring below this are dropped (a bare nine-digit number scores 0.05
#: unless its field is labelled "SSN"; validated checksums score 1.0).
SCORE_THRESHOLD = 0.4

#: Joins texts analysed together; a blank line ends every pattern we run.
_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Finding:
    """One detected span of the *original* text: its kind and where it was."""

    entity: str
    start: int
    end: int
    score: float

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.entity]


class Redactor:
    """A Presidio analyzer configured once; reuse it, building one takes ~0.5 s."""

    def __init__(self) -> None:
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in build_recognizers():
            registry.add_recognizer(recognizer)
        engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def find(self, text: str, context: Sequence[str] = ()) -> list[Finding]:
        """Merged, non-overlapping findings in ``text``, in order.

        ``context`` is words describing where the text came from (a field's
        label); recognizers whose context words match raise their score.
        """
        if not text.strip():
            return []
        results = self._analyzer.analyze(
            text=text,
            language="en",
            score_threshold=SCORE_THRESHOLD,
            context=[w for w in context if w] or None,
        )
        return merge_overlaps(Finding(r.entity_type, r.start, r.end, r.score) for r in results)

    def find_many(self, texts: Sequence[str], context: Sequence[str] = ()) -> list[list[Finding]]:
        """Findings for each of ``texts``, analysed in one call."""
        joined = _SEPARATOR.join(texts)
        starts, pos = [], 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + len(_SEPARATOR)
        per_text: list[list[Finding]] = [[] for _ in texts]
        for f in self.find(joined, context):
            for i, (s, t) in enumerate(zip(starts, texts, strict=True)):
                lo, hi = max(f.start, s), min(f.end, s + len(t))
                if lo < hi:  # a finding that crossed a separator is cut into its pieces
                    per_text[i].append(Finding(f.entity, lo - s, hi - s, f.score))
        return per_text

    def redact(self, text: str, context: Sequence[str] = ()) -> tuple[str, list[Finding]]:
        findings = self.find(text, context)
        return apply(text, findings), findings

    def redact_many(self, texts: Sequence[str], context: Sequence[str] = ()) -> list[str]:
        return [apply(t, f) for t, f in zip(texts, self.find_many(texts, context), strict=True)]


#: Which kind names a union of overlapping findings: validated, specific kinds
#: first; phone numbers (which match inside cards and SSNs) and free-standing
#: random strings (which match inside keys and IBANs) last.
_PRIORITY = {
    "API_KEY": 9, "JWT": 9, "CREDIT_CARD": 8, "IBAN_CODE": 8, "US_SSN": 7, "UK_NINO": 7,
    "ES_NIF": 7, "EMAIL_ADDRESS": 6, "PHONE_NUMBER": 3, "SECRET": 1,
}


def _rank(f: Finding) -> tuple[int, int, float]:
    return _PRIORITY[f.entity], f.end - f.start, f.score


def merge_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Union overlapping findings, so nothing in the union leaks; the most specific kind names it."""
    merged: list[tuple[int, int, Finding]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1][1]:
            start, end, best = merged[-1]
            merged[-1] = (start, max(end, f.end), max(best, f, key=_rank))
        else:
            merged.append((f.start, f.end, f))
    return [Finding(best.entity, start, end, best.score) for start, end, best in merged]


def apply(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with each finding's span replaced by its placeholder."""
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        out += [text[pos : f.start], f.placeholder]
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=1)
def default_redactor() -> Redactor:
    """The process-wide redactor (the analyzer is thread-safe for ``analyze``)."""
    return Redactor()


def redact_text(text: str, context: Sequence[str] = ()) -> tuple[str, list[Finding]]:
    """``text`` with PII replaced by placeholders, and what was found."""
    return default_redactor().redact(text, context)
