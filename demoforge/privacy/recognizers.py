"""The PII and secret recognizers demoforge runs at the collector.

Presidio's pattern recognizers do most of the work; this module adds what
they lack for recordings of office work in a browser:

* an e-mail recognizer that checks domains against the public-suffix list
  bundled with ``tldextract`` (the stock one fetches the list over the
  network on first use, and nothing may download at run time);
* 2-series Mastercard ranges (2221-2720), which Presidio's card pattern
  misses; every card candidate still has to pass the Luhn checksum;
* a stricter US SSN recognizer: Presidio's bare nine-digit pattern fires on
  any order number, so undelimited SSNs count only when the field's label
  says "SSN" (passed as context); numbers the SSA never issues are rejected;
* API keys with a vendor prefix (AWS, GitHub, Slack, Stripe, Google,
  OpenAI), JSON Web Tokens whose header decodes, bearer tokens, values
  assigned to names like ``password=`` or ``api_key:``, and long
  high-entropy strings that mix digits with both letter cases.

Each recognizer validates what it can (checksums, decodable headers,
entropy) so that precision does not come at the cost of recall.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter

import regex
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    EsNifRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UsSsnRecognizer,
)

#: Suffix list from the snapshot inside the tldextract wheel: no network fetch.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

#: Presidio matches case-insensitively by default; vendor prefixes (AKIA, ghp_)
#: and base64 alphabets are case-sensitive, so our own recognizers are too.
_CASE_SENSITIVE = regex.DOTALL | regex.MULTILINE

#: Regions whose phone-number formats are recognised.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "CA", "AU", "BR")


class OfflineEmailRecognizer(EmailRecognizer):
    """E-mail addresses whose domain ends in a real public suffix (checked offline)."""

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text.rsplit("@", 1)[-1]).fqdn != ""


class CardRecognizer(CreditCardRecognizer):
    """Card numbers, 2-series Mastercard included; Luhn-validated by the base class."""

    PATTERNS = [
        *CreditCardRecognizer.PATTERNS,
        Pattern(
            "Mastercard 2-series",
            r"\b2(?:2[2-9]\d|[3-6]\d{2}|7[01]\d|720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
            0.3,
        ),
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)


class StrictSsnRecognizer(UsSsnRecognizer):
    """US SSNs: delimited ones anywhere, bare nine digits only with an "SSN" label."""

    PATTERNS = [
        Pattern("SSN delimited", r"\b([0-9]{3})([- .])([0-9]{2})\2([0-9]{4})\b", 0.5),
        # Below the threshold on its own; the label context lifts it to 0.4.
        Pattern("SSN bare", r"\b[0-9]{9}\b", 0.05),
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def invalidate_result(self, pattern_text: str) -> bool:
        """The SSA's rules: no 000, 666 or 9xx area, no 00 group, no 0000 serial.

        Unlike Presidio's rules, the published sample numbers (123-45-6789,
        078-05-1120) count: people type them, and redacting them costs nothing.
        """
        d = "".join(c for c in pattern_text if c.isdigit())
        return d[:3] in ("000", "666") or d[0] == "9" or d[3:5] == "00" or d[5:] == "0000" or len(set(d)) == 1


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_random(value: str, min_entropy: float) -> bool:
    """True for strings that mix digits, lower and upper case with high entropy.

    Requiring all three classes keeps identifiers (camelCase words, hex
    hashes, UUIDs, file paths) out; random tokens from base62/base64
    alphabets almost always have all three from about 16 characters on.
    """
    return (
        any(c.isdigit() for c in value)
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and shannon_entropy(value) >= min_entropy
    )


class ApiKeyRecognizer(PatternRecognizer):
    """Vendor API keys: each vendor's fixed prefix and length make them exact."""

    PATTERNS = [
        Pattern("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b", 0.9),
        Pattern("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b", 0.9),
        Pattern("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b", 0.9),
        Pattern("Slack token", r"\bxox[abposr]-(?:[A-Za-z0-9]+-){1,4}[A-Za-z0-9]{6,}\b", 0.9),
        Pattern("Stripe key", r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,99}\b", 0.9),
        Pattern("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", 0.9),
        Pattern("OpenAI key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{32,}(?![A-Za-z0-9_\-])", 0.9),
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="API_KEY", patterns=self.PATTERNS, context=["key", "token"], global_regex_flags=_CASE_SENSITIVE)


class JwtRecognizer(PatternRecognizer):
    """JSON Web Tokens: three base64url parts whose header is JSON naming an ``alg``."""

    PATTERNS = [
        Pattern("JWT", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", 0.5),
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="JWT", patterns=self.PATTERNS, context=["token"], global_regex_flags=_CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        header = pattern_text.split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        return isinstance(decoded, dict) and "alg" in decoded


#: Names that announce a secret value in ``name=value`` or ``name: value`` text.
_SECRET_NAMES = (
    r"pass(?:word|wd|phrase)?|pwd|secret|client[_\-]?secret|api[_\-]?key|apikey"
    r"|access[_\-]?key|private[_\-]?key|auth[_\-]?token|access[_\-]?token"
    r"|refresh[_\-]?token|token|session[_\-]?id|sessionid"
)


class CredentialRecognizer(PatternRecognizer):
    """Credentials announced by their position: bearer tokens and ``password=...``.

    Only the value is reported, never the announcing name, so that a redacted
    ``password=[SECRET]`` still tells a model which field it was.
    """

    PATTERNS = [
        Pattern("Bearer token", r"(?i)(?<=\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*", 0.6),
        # The name may end a longer one (db_password=); "&" ends the value only
        # where a query string goes on with its next "name=".
        Pattern(
            "Assigned secret",
            rf"(?i)(?<=(?:{_SECRET_NAMES})[\"']?\s*[:=]\s*[\"']?)(?:[^\s\"'&,;<>]|&(?!\w+=)){{6,}}",
            0.6,
        ),
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="SECRET", patterns=self.PATTERNS)

    def validate_result(self, pattern_text: str) -> bool | None:
        # "password: required" or "token=expired" are prose, not values.
        return None if not (pattern_text.isalpha() and pattern_text.islower()) else False


class HighEntropyRecognizer(PatternRecognizer):
    """Free-standing random strings of 24+ characters: tokens without a known prefix."""

    PATTERNS = [
        Pattern(
            "High-entropy string",
            r"(?<![A-Za-z0-9_+/\-])[A-Za-z0-9_+/\-]{24,}={0,2}(?![A-Za-z0-9_+/=\-])",
            0.5,
        ),
    ]

    #: Bits per character a candidate must reach (random base62 of 24 chars: ~4.3).
    MIN_ENTROPY = 3.9

    def __init__(self) -> None:
        super().__init__(supported_entity="SECRET", patterns=self.PATTERNS, global_regex_flags=_CASE_SENSITIVE)

    def validate_result(self, pattern_text: str) -> bool:
        return looks_random(pattern_text, self.MIN_ENTROPY)


def build_recognizers() -> list[EntityRecognizer]:
    """Every recognizer the redactor runs, all regex- or library-based (no NLP model)."""
    return [
        OfflineEmailRecognizer(),
        PhoneRecognizer(supported_regions=PHONE_REGIONS, leniency=3),
        CardRecognizer(),
        IbanRecognizer(),
        StrictSsnRecognizer(),
        UkNinoRecognizer(),
        EsNifRecognizer(supported_language="en"),
        ApiKeyRecognizer(),
        JwtRecognizer(),
        CredentialRecognizer(),
        HighEntropyRecognizer(),
    ]
