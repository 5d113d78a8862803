"""Reading dates: the date an instruction names and the month a calendar shows.

A person told to pick 03/24/2016 in a date picker that shows December 2016
knows to step back to March and then click 24. Word matching sees neither:
"03" is not the word "March", and the day cell "4" is not the "04" of
12/04/2016 while the cell "12" is. Traces of the agent showed exactly that: it
stepped one month too far, or stepped back from the right month, and clicked
the day that echoed the month number. These features say plainly how the
month on the page stands to the month asked for, for any calendar that writes
its month out (jQuery UI's, and most form toolkits').
"""

import re
from dataclasses import dataclass

from demoforge.events import Element

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
#: Full and three-letter month names (English, as the pages write them), to month numbers.
MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)} | {
    name[:3]: i + 1 for i, name in enumerate(_MONTH_NAMES)
}
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")  # month/day/year, as US forms write it
_NAMED = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_YEAR = re.compile(r"^\d{4}$")

#: Per step: a month is shown; it is the month asked for; the one asked for is before it;
#: after it; how many months away (at most a year).
N_DATE_GLOBAL = 5
#: Per element: it names the month asked for; its whole text is the day asked for.
N_DATE_ELEMENT = 2


@dataclass(frozen=True)
class Date:
    year: int
    month: int
    day: int


def named_date(text: str) -> Date | None:
    """The first date the text names, as 12/04/2016 or as December 4, 2016; None if none
    (or if the numbers are no date)."""
    for m in _NUMERIC.finditer(text):
        month, day, year = (int(g) for g in m.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return Date(year, month, day)
    for m in _NAMED.finditer(text):
        month = MONTHS.get(m.group(1).lower())
        day, year = int(m.group(2)), int(m.group(3))
        if month and 1 <= day <= 31:
            return Date(year, month, day)
    return None


def _month_and_year(text: str | None) -> tuple[int, int | None] | None:
    """(month, year or None) when the whole text is a month's name, maybe with its year."""
    parts = (text or "").lower().replace(",", " ").split()
    if not parts or parts[0] not in MONTHS or len(parts) > 2:
        return None
    if len(parts) == 2 and not _YEAR.match(parts[1]):
        return None
    return MONTHS[parts[0]], int(parts[1]) if len(parts) == 2 else None


def shown_month(elements: list[Element]) -> tuple[int, int | None] | None:
    """The month (and year, when written next to it) that a calendar on the page shows:
    the first element whose text is a month's name, its year in the same text or in the
    element right after it (jQuery UI writes "December" and "2016" apart)."""
    for i, e in enumerate(elements):
        found = _month_and_year(e.text)
        if found is None:
            continue
        month, year = found
        following = elements[i + 1].text if i + 1 < len(elements) else None
        if year is None and following and _YEAR.match(following.strip()):
            year = int(following.strip())
        return month, year
    return None


def date_features(elements: list[Element], instruction: str) -> tuple[list[float], list[list[float]]]:
    """The step's calendar features (``N_DATE_GLOBAL``) and each element's (``N_DATE_ELEMENT``)."""
    wanted = named_date(instruction)
    glob = [0.0] * N_DATE_GLOBAL
    if wanted is None:  # most steps: nothing to read on the page
        return glob, [[0.0] * N_DATE_ELEMENT for _ in elements]
    shown = shown_month(elements)
    if shown:
        month, year = shown
        away = (wanted.year - year) * 12 if year is not None else 0
        away += wanted.month - month
        glob = [1.0, float(away == 0), float(away < 0), float(away > 0), min(abs(away), 12) / 12]
    rows = []
    for e in elements:
        text = (e.text or "").strip()
        found = _month_and_year(text)
        names_month = bool(found and found[0] == wanted.month and found[1] in (None, wanted.year))
        is_day = text.isdecimal() and int(text) == wanted.day  # not isdigit: int('²') fails
        rows.append([float(names_month), float(is_day)])
    return glob, rows
