"""Reading superlatives: which of the prices or durations in sight the instruction asks for.

"Book the cheapest flight" or "buy the ticket with the longest duration" asks a
person to compare the amounts on the page and take the extreme one. Word
matching cannot: "$242" shares no word with "cheapest", and every ticket's
button says "Book for $...". So the policy is told plainly which element holds
the amount the superlative picks, among the amounts of the same kind in sight.

Only the direction and the kind of amount come from the instruction's words (a
short English list: "cheapest" is the least money, "longest" the most time);
the amounts are read off the page as a person reads them ("$1,022", "14h 30m").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from demoforge.events import Element

_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*$", re.I)
_NUMBER = re.compile(r"^\s*-?\d[\d,]*(?:\.\d+)?\s*$")

#: Superlative words: (which end, which kind of amount; None for any). "most" and
#: "least" count only with the adjective after them.
SUPERLATIVES: dict[str, tuple[str, str | None]] = {
    "cheapest": ("min", "money"),
    "least expensive": ("min", "money"),
    "most expensive": ("max", "money"),
    "priciest": ("max", "money"),
    "shortest": ("min", "duration"),
    "longest": ("max", "duration"),
    "lowest": ("min", None),
    "smallest": ("min", None),
    "fewest": ("min", None),
    "highest": ("max", None),
    "largest": ("max", None),
    "biggest": ("max", None),
}
_SUPERLATIVE = re.compile(r"\b(" + "|".join(sorted(SUPERLATIVES, key=len, reverse=True)) + r")\b")


def amount(text: str | None) -> tuple[str, float] | None:
    """The one amount a piece of text shows, with its kind: ("money", 1022.0) for "Book for
    $1,022", ("duration", 870.0) minutes for "14h 30m", ("number", 3.0) for "3"; None for
    text that shows none, or more than one price."""
    if not text:
        return None
    prices = _MONEY.findall(text)
    if len(prices) == 1:
        return "money", float(prices[0].replace(",", ""))
    if prices:
        return None
    m = _DURATION.match(text)
    if m and any(m.groups()):
        hours, minutes = (int(g) if g else 0 for g in m.groups())
        return "duration", float(hours * 60 + minutes)
    if _NUMBER.match(text):
        return "number", float(text.replace(",", ""))
    return None


def asked_extreme(instruction: str) -> tuple[str, str | None] | None:
    """The first superlative the instruction uses: (end, kind), or None."""
    m = _SUPERLATIVE.search(instruction.lower())
    return SUPERLATIVES[m.group(1)] if m else None


#: Per kind of amount, the amounts seen on the page beyond those in sight now, by an
#: earlier look down their list (``runtime.look_down_amounts``).
Seen = Mapping[str, Collection[float]]


def amounts(elements: list[Element]) -> dict[str, list[tuple[int, float]]]:
    """Per kind of amount, the elements (by row) that show one, with the amount."""
    by_kind: dict[str, list[tuple[int, float]]] = {}
    for i, e in enumerate(elements):
        if (read := amount(e.text)) is not None:
            by_kind.setdefault(read[0], []).append((i, read[1]))
    return by_kind


def compared_kind(kind: str | None, by_kind: Mapping[str, Collection[object]]) -> str | None:
    """The kind of amount a superlative compares: the one it names, else the kind most
    of ``by_kind`` shows ("the lowest" of a page of numbers)."""
    if kind is None and by_kind:
        return max(by_kind, key=lambda k: len(by_kind[k]))
    return kind


def superlative(elements: list[Element], instruction: str, seen: Seen | None = None) -> list[float]:
    """Per element: 1 when its amount is the one the instruction's superlative picks
    among the amounts of that kind in sight, and ``seen`` elsewhere on the page, else 0
    (ties are all 1).

    It takes two amounts to compare: with one price in sight, a person who was
    asked for the cheapest scrolls on to see the others, and the recordings show
    exactly that, so a lone amount is not marked unless others were ``seen``. Where the
    superlative names no kind ("the lowest"), the kind most elements in sight show
    is compared.
    """
    asked = asked_extreme(instruction)
    out = [0.0] * len(elements)
    if asked is None:
        return out
    end, kind = asked
    by_kind = amounts(elements)
    kind = compared_kind(kind, by_kind)
    members = by_kind.get(kind or "", [])
    elsewhere = list((seen or {}).get(kind or "", ()))
    if not members or len(members) + len(elsewhere) < 2:
        return out
    pick = min if end == "min" else max
    best = pick([v for _, v in members] + elsewhere)
    for i, v in members:
        out[i] = float(v == best)
    return out
