"""A labelled corpus of PII and hard negatives, and per-entity scoring.

Two parts:

* ``handwritten.txt``: sentences written by hand, one per line, the PII
  marked inline as ``{{ENTITY:text}}``; lines without marks are hard
  negatives (strings that look like PII but are not: dates, versions,
  invalid checksums, ``icon@2x.png``...).
* generated examples: for every entity, valid values (real checksums,
  several formats) placed in templates that mimic what a recorder sees
  (form values, table cells, URLs, JSON, prose), and near-miss values of
  the same shape that fail the entity's rules. Generation is seeded, so the
  corpus is the same on every run.

Scoring is strict about kind: a gold span counts as found only when
findings of its own entity cover every character of it, and a finding is
correct only when it overlaps a gold span of its own entity.
"""

from __future__ import annotations

import random
import re
import string
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    from demoforge.privacy.redaction import Redactor

HANDWRITTEN = Path(__file__).with_name("handwritten.txt")
_MARK = re.compile(r"\{\{([A-Z_]+):(.*?)\}\}")


@dataclass
class Example:
    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (entity, start, end)


def parse_marked(line: str) -> Example:
    """``"mail {{EMAIL_ADDRESS:a@b.com}}"`` -> text with the marks removed, and spans."""
    text, spans, pos = [], [], 0
    out_len = 0
    for m in _MARK.finditer(line):
        before = line[pos : m.start()]
        text.append(before)
        out_len += len(before)
        spans.append((m.group(1), out_len, out_len + len(m.group(2))))
        text.append(m.group(2))
        out_len += len(m.group(2))
        pos = m.end()
    text.append(line[pos:])
    return Example("".join(text), spans)


# --- valid values -------------------------------------------------------------


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


def luhn_ok(number: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(number)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def card(rng: random.Random) -> str:
    prefix, length, groups = rng.choice(
        [
            ("4", 16, (4, 4, 4, 4)),
            (str(rng.randint(51, 55)), 16, (4, 4, 4, 4)),
            (str(rng.randint(2221, 2720)), 16, (4, 4, 4, 4)),
            (rng.choice(["34", "37"]), 15, (4, 6, 5)),
            ("6011", 16, (4, 4, 4, 4)),
        ]
    )
    number = luhn_complete(prefix, length, rng)
    sep = rng.choice(["", " ", "-"])
    parts, i = [], 0
    for g in groups:
        parts.append(number[i : i + g])
        i += g
    return sep.join(parts)


_IBAN_LAYOUT = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20, "IT": 23, "CH": 17, "BE": 12}


def iban(rng: random.Random, valid: bool = True) -> str:
    country = rng.choice(sorted(_IBAN_LAYOUT))
    n = _IBAN_LAYOUT[country]
    if country in ("GB", "NL"):
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(
            rng.choice(string.digits) for _ in range(n - 4)
        )
    elif country == "IT":
        bban = rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(n - 1))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(n))
    check = 98 - _mod97(bban + country + "00")
    if not valid:
        check = (check + rng.randint(1, 96)) % 97 or 1
        check = check if check > 1 else 2
    raw = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return raw


def _mod97(s: str) -> int:
    return int("".join(str(int(c, 36)) for c in s)) % 97


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    sep = rng.choice(["-", " ", "."])
    return f"{area:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"


def nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "NK", "KN", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    sep = rng.choice(["", " "])
    return sep.join([first + second, digits[:2], digits[2:4], digits[4:]]) + sep + rng.choice("ABCD")


def nif(rng: random.Random) -> str:
    number = rng.randint(1_000_000, 99_999_999)
    return f"{number:08d}{rng.choice(['', '-'])}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def email(rng: random.Random) -> str:
    first = rng.choice(["anna", "li", "jose", "m", "oluwaseun", "chen.wei", "o'brien", "j_smith", "x"])
    last = rng.choice(["", ".k", ".muller", "+billing", "_2", "99", "-ops", ".van.der.berg"])
    domain = rng.choice(
        ["example.com", "firma.de", "mail.co.uk", "uni-heidelberg.de", "company.io", "health.gov.au",
         "corp.example.org", "yahoo.fr", "sub.domain.co.jp", "startup.ai"]
    )
    return f"{first}{last}@{domain}".replace("'", rng.choice(["", "'"]))


def phone(rng: random.Random) -> str:
    region = rng.choice(["US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "CA", "AU"])
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    while True:
        digits = national[:3] + "".join(rng.choice(string.digits) for _ in range(len(national) - 3))
        number = phonenumbers.parse(digits, region)
        if phonenumbers.is_valid_number(number):
            break
    fmt = rng.choice(
        [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
         phonenumbers.PhoneNumberFormat.NATIONAL]
    )
    return phonenumbers.format_number(number, fmt)


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


_B62 = string.ascii_letters + string.digits
_B64URL = _B62 + "-_"


def api_key(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(["AKIA", "ASIA"]) + _rand(rng, string.ascii_uppercase + "234567", 16)
    if kind == 1:
        return rng.choice(["ghp_", "gho_", "ghs_"]) + _rand(rng, _B62, 36)
    if kind == 2:
        return "xoxb-" + _rand(rng, string.digits, 12) + "-" + _rand(rng, string.digits, 13) + "-" + _rand(rng, _B62, 24)
    if kind == 3:
        return rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + _rand(rng, _B62, 24)
    if kind == 4:
        return "AIza" + _rand(rng, _B64URL, 35)
    return "sk-proj-" + _rand(rng, _B64URL, 48)


def jwt(rng: random.Random) -> str:
    import base64
    import json

    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    payload = {"sub": _rand(rng, string.digits, 8), "iat": rng.randint(1_600_000_000, 1_800_000_000)}
    return f"{b64(header)}.{b64(payload)}.{_rand(rng, _B64URL, 43)}"


def secret(rng: random.Random) -> tuple[str, str]:
    """A (prefix, secret) pair: the prefix announces it, or the secret stands alone."""
    token = _rand(rng, _B62, rng.randint(24, 48))
    while not (any(c.isdigit() for c in token) and any(c.islower() for c in token) and any(c.isupper() for c in token)):
        token = _rand(rng, _B62, len(token))
    kind = rng.randrange(4)
    if kind == 0:
        return "Authorization: Bearer ", token
    if kind == 1:
        name = rng.choice(["password", "passwd", "client_secret", "api_key", "access_token", "secret"])
        value = rng.choice([token, _rand(rng, _B62 + "!$%", rng.randint(8, 14))])
        return f"{name}{rng.choice(['=', ': ', ' = '])}", value
    if kind == 2:
        return "session token ", token
    return "", token


# --- near misses (hard negatives) -------------------------------------------


def not_card(rng: random.Random) -> str:
    while True:
        n = rng.choice(["4", "5", "3", "6"]) + _rand(rng, string.digits, 15)
        if not luhn_ok(n):
            return rng.choice([n, " ".join(n[i : i + 4] for i in range(0, 16, 4))])


def not_ssn(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"{rng.choice(['000', '666', str(rng.randint(900, 999))])}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    if kind == 1:
        return f"{rng.randint(100, 899)}-00-{rng.randint(1000, 9999)}"
    if kind == 2:
        return f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == 3:
        return f"order {rng.randint(100_000_000, 899_999_999)}"
    return f"{rng.randint(100, 899)}-{rng.randint(10, 99)}/{rng.randint(1000, 9999)}"


def not_email(rng: random.Random) -> str:
    return rng.choice(
        [
            f"icon@{rng.randint(2, 3)}x.png",
            f"@{rng.choice(['anna', 'devops', 'here'])} please review",
            f"{rng.choice(['user', 'admin'])} at example dot com",
            f"git@{rng.choice(['localhost', 'buildbox'])}",
            f"see www.{rng.choice(['example', 'intranet', 'wiki'])}.com/{rng.choice(['contact', 'help', 'team'])}",
            f"https://example.com/{rng.choice(['a', 'docs', 'x'])}?page={rng.randint(1, 9)}",
            f"npm i @{rng.choice(['types', 'babel', 'vue'])}/{rng.choice(['node', 'core', 'cli'])}@{rng.randint(1, 9)}.{rng.randint(0, 9)}",
            f"sprite@{rng.randint(1, 4)}x.webp",
        ]
    )


def not_phone(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1990, 2030)}",
            f"v{rng.randint(1, 20)}.{rng.randint(0, 40)}.{rng.randint(0, 99)}",
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            f"${rng.randint(1, 99_999):,}.{rng.randint(0, 99):02d}",
            f"{rng.randint(1, 99)}%",
            f"ZIP {rng.randint(10000, 99999)}",
            f"INV-{rng.randint(2019, 2030)}-{rng.randint(1, 999):03d}",
            f"{rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
            f"qty {rng.randint(1, 500)} x {rng.randint(1, 99)}",
            f"page {rng.randint(1, 400)} of {rng.randint(400, 999)}",
        ]
    )


def not_iban(rng: random.Random) -> str:
    return iban(rng, valid=False)


def not_nino(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.choice(['BG', 'GB', 'NK', 'TN', 'ZZ'])}{_rand(rng, string.digits, 6)}{rng.choice('ABCD')}",
            f"QQ{_rand(rng, string.digits, 6)}{rng.choice('EFGH')}",
            f"AB{_rand(rng, string.digits, 5)}C",
            f"{_rand(rng, string.ascii_uppercase, 2)}-{_rand(rng, string.digits, 4)}",
        ]
    )


def not_nif(rng: random.Random) -> str:
    number = rng.randint(1_000_000, 99_999_999)
    right = "TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]
    wrong = rng.choice([c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != right])
    return f"{number:08d}{wrong}"


def not_api_key(rng: random.Random) -> str:
    return rng.choice(
        [
            "AKIA" + _rand(rng, string.ascii_lowercase, 16),
            "ghp_" + _rand(rng, _B62, 10),
            "sk_live_" + _rand(rng, _B62, 6),
            f"xoxb token goes here ({rng.randint(1, 9)})",
            "AIza" + _rand(rng, _B64URL, 10),
            f"sk-{rng.choice(['learn', 'SE', 'de'])} documentation",
        ]
    )


def not_jwt(rng: random.Random) -> str:
    return rng.choice(
        [
            "eyJ" + _rand(rng, _B62, 20) + "." + "eyJ" + _rand(rng, _B62, 20) + "." + _rand(rng, _B62, 20),
            f"jwt.io docs chapter {rng.randint(1, 9)}",
            "eyJhbGciOi (truncated)",
        ]
    )


def not_secret(rng: random.Random) -> str:
    return rng.choice(
        [
            str(__import__("uuid").UUID(int=rng.getrandbits(128))),
            _rand(rng, "0123456789abcdef", 40),
            _rand(rng, "0123456789abcdef", 64),
            "getElementsBy" + rng.choice(["ClassName", "TagName", "Name"]) + "ForTesting" + rng.choice(["Only", "Now", ""]),
            "/home/" + rng.choice(["anna", "dev"]) + "/projects/demoforge/capture/recorder.js",
            "password: " + rng.choice(["required", "incorrect", "expired", "hidden"]),
            "token=" + rng.choice(["invalid", "missing", "expired"]),
            "ThisIsAVeryLongCamelCaseIdentifierName",
            "https://intranet.example.com/tickets/" + str(rng.randint(1000, 99999)),
            "data-testid=submit-button-primary-large",
            "The quick brown fox jumps over the lazy dog",
        ]
    )


# --- templates --------------------------------------------------------------

_TEMPLATES = [
    "{v}",
    "Contact: {v}",
    "Please update the record to {v} before Friday.",
    "| Anna K. | {v} | active |",
    '{{"field": "{v}", "ok": true}}',
    "value={v}&next=2",
    "{v}\tsaved",
    "Note from support ({v}) - escalated",
]

Generator = Callable[[random.Random], str]

POSITIVES: dict[str, Generator] = {
    "EMAIL_ADDRESS": email,
    "PHONE_NUMBER": phone,
    "CREDIT_CARD": card,
    "IBAN_CODE": iban,
    "US_SSN": ssn,
    "UK_NINO": nino,
    "ES_NIF": nif,
    "API_KEY": api_key,
    "JWT": jwt,
}

NEGATIVES: dict[str, Generator] = {
    "EMAIL_ADDRESS": not_email,
    "PHONE_NUMBER": not_phone,
    "CREDIT_CARD": not_card,
    "IBAN_CODE": not_iban,
    "US_SSN": not_ssn,
    "UK_NINO": not_nino,
    "ES_NIF": not_nif,
    "API_KEY": not_api_key,
    "JWT": not_jwt,
    "SECRET": not_secret,
}


def generated(per_entity: int = 300, seed: int = 5) -> Iterator[Example]:
    rng = random.Random(seed)
    for entity, gen in POSITIVES.items():
        for _ in range(per_entity):
            value = gen(rng)
            text = rng.choice(_TEMPLATES).replace("{{", "{").replace("}}", "}")
            start = text.index("{v}")
            yield Example(text.replace("{v}", value), [(entity, start, start + len(value))])
    for _ in range(per_entity):
        prefix, value = secret(rng)
        text = f"{prefix}{value}"
        yield Example(text, [("SECRET", len(prefix), len(text))])
    for gen in NEGATIVES.values():
        for _ in range(per_entity):
            yield Example(rng.choice(_TEMPLATES).replace("{{", "{").replace("}}", "}").replace("{v}", gen(rng)))


def handwritten() -> Iterator[Example]:
    for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield parse_marked(line)


def corpus(per_entity: int = 300) -> list[Example]:
    return [*handwritten(), *generated(per_entity)]


# --- scoring ----------------------------------------------------------------


@dataclass
class Score:
    gold: int = 0
    found: int = 0  # gold spans fully covered by findings of their entity
    predicted: int = 0
    correct: int = 0  # findings overlapping a gold span of their entity

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


Findings = list[list[tuple[str, int, int]]]
Finder = Callable[[list[str]], Findings]


def redactor_finder(redactor: "Redactor") -> Finder:
    """The redactor's findings as (entity, start, end), one text at a time."""
    return lambda texts: [[(f.entity, f.start, f.end) for f in redactor.find(t)] for t in texts]


def _covered(span: tuple[str, int, int], findings: list[tuple[str, int, int]]) -> bool:
    entity, s, e = span
    covered: set[int] = set()
    for fe, fs, fend in findings:
        if fe == entity:
            covered.update(range(max(s, fs), min(e, fend)))
    return len(covered) == e - s


def _correct(finding: tuple[str, int, int], spans: list[tuple[str, int, int]]) -> bool:
    fe, fs, fend = finding
    return any(ge == fe and fs < e and s < fend for ge, s, e in spans)


def score(examples: list[Example], findings: Findings) -> dict[str, Score]:
    """Per-entity scores of ``findings`` (one list per example, as (entity, start, end))."""
    scores: dict[str, Score] = defaultdict(Score)
    for ex, found in zip(examples, findings, strict=True):
        for span in ex.spans:
            scores[span[0]].gold += 1
            scores[span[0]].found += _covered(span, found)
        for finding in found:
            scores[finding[0]].predicted += 1
            scores[finding[0]].correct += _correct(finding, ex.spans)
    return dict(scores)


def errors(examples: list[Example], findings: Findings) -> Iterator[str]:
    """One line per missed gold span and per wrong finding, for reading the misses."""
    for ex, found in zip(examples, findings, strict=True):
        for span in ex.spans:
            if not _covered(span, found):
                yield f"MISS {span[0]}: {ex.text!r} found={found}"
        for finding in found:
            if not _correct(finding, ex.spans):
                yield f"FALSE {finding[0]}: {ex.text[finding[1]:finding[2]]!r} in {ex.text!r}"


def table(scores: dict[str, Score]) -> str:
    rows = [f"{'entity':<15}{'gold':>6}{'found':>7}{'recall':>8}{'predicted':>11}{'correct':>9}{'precision':>11}"]
    for entity in sorted(scores):
        s = scores[entity]
        rows.append(
            f"{entity:<15}{s.gold:>6}{s.found:>7}{s.recall:>8.3f}{s.predicted:>11}{s.correct:>9}{s.precision:>11.3f}"
        )
    return "\n".join(rows)
