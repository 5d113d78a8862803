"""Date and time inputs: what a person keys in, not the value the page reads.

An ``<input type=date>`` or ``type=time`` is a row of segments (month, day,
year; hours, minutes, AM/PM). Its value is in a wire format (``2019-09-24``,
``14:18``) that nobody types: a person keys the displayed form,
``09/24/2019`` or ``2:18 PM``, and the field turns it into the value. An
action's ``text`` is what to key in, so the value recorded after typing is
turned back into the displayed form here; that is also the form instructions
are written in, so the text can be copied from the instruction.

The displayed form is the en-US one: the locale the agent's browser runs in
(and the one the 2017 MiniWoB++ recordings were made in).
"""

from __future__ import annotations

import re

#: Input types whose field is a row of segments; keys fill them from the first.
SEGMENTED_INPUT_TYPES = frozenset({"date", "time"})

_DATE = re.compile(r"(\d{4,})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?")


def keyed_text(input_type: str | None, value: str) -> str:
    """What a person keys into a field of ``input_type`` to give it ``value``.

    Values that are not in the field's wire format (a partly filled field
    reads as ``""``) and other input types are returned unchanged.
    """
    if input_type == "date" and (m := _DATE.fullmatch(value)):
        year, month, day = m.groups()
        return f"{month}/{day}/{year}"
    if input_type == "time" and (m := _TIME.fullmatch(value)):
        hours, minutes = int(m.group(1)), m.group(2)
        return f"{(hours - 1) % 12 + 1}:{minutes} {'PM' if hours >= 12 else 'AM'}"
    return value


def keys_for(input_type: str | None, text: str) -> str:
    """The keys that put ``text`` into a field of ``input_type``.

    A segmented field moves to the next segment on a digit run's end or a
    separator (``/``, ``:``), but takes a space as no separator: ``2:18 PM``
    typed with its space leaves the field empty, ``2:18PM`` fills it.
    """
    return text.replace(" ", "") if input_type in SEGMENTED_INPUT_TYPES else text
