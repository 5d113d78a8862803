"""The shared event schema: round trips, versioning and refusal of bad input."""

import json

import pytest
from pydantic import ValidationError

from demoforge import events


def _click(**over):
    data = {"type": "click", "session_id": "s1", "seq": 0, "ts": 1, "x": 10.5, "y": 20}
    data.update(over)
    return data


def test_round_trip_keeps_field_names():
    ev = events.parse_event(_click(target={"tag": "button", "id": "ok"}))
    dumped = events.dump_event(ev)
    assert dumped["type"] == "click" and dumped["x"] == 10.5 and dumped["target"]["id"] == "ok"
    assert events.parse_event(json.dumps(dumped)) == ev


def test_ids_are_uuid7_and_unique():
    a, b = events.parse_event(_click()), events.parse_event(_click())
    assert a.id != b.id
    with pytest.raises(ValidationError, match="UUIDv7"):
        events.parse_event(_click(id="6f1c1f64-1b7a-4a5e-9d1a-1f2b3c4d5e6f"))


@pytest.mark.parametrize(
    "bad",
    [
        _click(schema_version=99),
        _click(type="teleport"),
        _click(x="left"),
        _click(extra_field=1),
        {"type": "key_down", "session_id": "s", "seq": 0, "ts": 0},
    ],
)
def test_bad_events_are_refused(bad):
    with pytest.raises(ValidationError):
        events.parse_event(bad)


def test_every_event_type_is_listed():
    assert len(events.EVENT_TYPES) == len(set(events.EVENT_TYPES)) == 17


def test_element_at_picks_innermost():
    snap = events.DomSnapshot(
        elements=[
            events.Element(ref=1, tag="div", box=events.Box(x=0, y=0, width=100, height=100)),
            events.Element(ref=2, parent=1, tag="button", box=events.Box(x=10, y=10, width=20, height=10)),
        ]
    )
    assert snap.element_at(15, 15).ref == 2
    assert snap.element_at(50, 50).ref == 1
    assert snap.element_at(500, 500) is None
