"""Date and time values turn into the text a person keys in, and back into keys a field takes."""

from __future__ import annotations

import pytest

from demoforge.dataset.datetime_fields import keyed_text, keys_for


@pytest.mark.parametrize(
    ("input_type", "value", "text"),
    [
        ("date", "2019-09-24", "09/24/2019"),
        ("time", "14:18", "2:18 PM"),
        ("time", "00:51", "12:51 AM"),
        ("time", "12:05:30", "12:05 PM"),
        ("date", "", ""),  # a partly filled field reads empty
        ("date", "24.09.2019", "24.09.2019"),  # not the wire format: left alone
        ("text", "2019-09-24", "2019-09-24"),
    ],
)
def test_keyed_text(input_type: str, value: str, text: str) -> None:
    assert keyed_text(input_type, value) == text


def test_spaces_are_no_keys_in_a_segmented_field_only() -> None:
    assert keys_for("time", "2:18 PM") == "2:18PM"
    assert keys_for("text", "2:18 PM") == "2:18 PM"
