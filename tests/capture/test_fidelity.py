"""Fidelity: a known script of more than 50 real-input actions on the sample form,
recorded through spool, uploader and store, read back from the export.

Every pointer down/up/click with its exact coordinates and target, every key in
order, every committed value, and one DOM snapshot and one screenshot per action
boundary: nothing missing, nothing duplicated.
"""

from __future__ import annotations

import pytest

from demoforge.events import DomSnapshot, parse_event

pytestmark = pytest.mark.browser

BOUNDARY_TYPES = ("pointer_down", "key_down", "change", "navigation")


def test_script_is_long_enough(form_session):
    _, actor = form_session
    assert actor.actions >= 50


def test_export_is_complete_and_ordered(form_session):
    recorded, _ = form_session
    assert recorded.delivered
    ids = [e["id"] for e in recorded.events]
    seqs = [e["seq"] for e in recorded.events]
    assert len(set(ids)) == len(ids), "duplicated event ids"
    assert seqs == sorted(set(seqs)), "seq must be unique and increasing"
    assert seqs == list(range(len(seqs))), "a gap in seq means a lost event"
    assert all(e["session_id"] == recorded.session_id for e in recorded.events)
    for e in recorded.events:
        parse_event(e)  # every exported line is a valid schema event
    assert recorded.events[0]["type"] == "task_start" and recorded.events[-1]["type"] == "task_end"


@pytest.mark.parametrize("kind", ["pointer_down", "pointer_up", "click"])
def test_every_click_exact_coordinates_and_target(form_session, kind):
    recorded, actor = form_session
    got = [(e["x"], e["y"], e["target"]["id"]) for e in recorded.of_type(kind)]
    assert got == [(c.x, c.y, c.target_id) for c in actor.clicks]


def test_every_key_in_order(form_session):
    recorded, actor = form_session
    downs = [(e["key"], e["target"]["id"], e.get("masked", False)) for e in recorded.of_type("key_down")]
    assert downs == [(k.key, k.target_id, k.masked) for k in actor.keys]
    # A key's release lands where focus went (Tab), so only key and masking must match.
    ups = [(e["key"], e.get("masked", False)) for e in recorded.of_type("key_up")]
    assert ups == [(k.key, k.masked) for k in actor.keys]


def test_every_committed_value(form_session):
    recorded, actor = form_session
    got = [(e["target"]["id"], e.get("value")) for e in recorded.of_type("change")]
    assert got == actor.commits


def test_wheel_and_scroll_recorded(form_session):
    recorded, actor = form_session
    wheels = recorded.of_type("wheel")
    assert 1 <= len(wheels) <= actor.wheels
    assert sum(w["dy"] for w in wheels) == 90 * actor.wheels  # sampled, deltas summed
    scrolls = [s for s in recorded.of_type("scroll") if s.get("target", {}).get("id") == "policy"]
    assert scrolls and scrolls[-1]["scroll_y"] > 0


def test_one_snapshot_and_one_screenshot_per_action_boundary(form_session):
    recorded, actor = form_session
    by_id = {e["id"]: e for e in recorded.events}
    snapshots = recorded.of_type("dom_snapshot")
    screenshots = recorded.of_type("screenshot")
    boundaries = sorted({s["action_id"] for s in snapshots}, key=lambda i: by_id[i]["seq"])

    # Which events are boundaries, from the script: every click, the first key of each
    # typing run, every committed value, the page load.
    expected = (
        len(actor.clicks) + sum(k.starts_run for k in actor.keys) + len(actor.commits) + 1
    )
    assert len(boundaries) == expected
    assert [by_id[b]["type"] for b in boundaries].count("pointer_down") == len(actor.clicks)
    starts = [by_id[b]["key"] for b in boundaries if by_id[b]["type"] == "key_down"]
    assert starts == [k.key for k in actor.keys if k.starts_run]
    assert all(by_id[b]["type"] in BOUNDARY_TYPES for b in boundaries)
    # Exactly one of each per boundary: 0 missing, 0 duplicated.
    assert sorted(s["action_id"] for s in snapshots) == sorted(boundaries)
    assert sorted(s["action_id"] for s in screenshots) == sorted(boundaries)
    for shot in screenshots:
        assert recorded.blob(shot["blob"])[:3] == b"\xff\xd8\xff"  # a JPEG
        assert shot["seq"] > by_id[shot["action_id"]]["seq"]


def test_snapshot_shows_the_clicked_element_under_the_pointer(form_session):
    recorded, _ = form_session
    by_action = {s["action_id"]: s for s in recorded.of_type("dom_snapshot")}
    for down in recorded.of_type("pointer_down"):
        snap = DomSnapshot.model_validate_json(recorded.blob(by_action[down["id"]]["blob"]))
        element = snap.by_ref()[down["target"]["ref"]]
        assert element.id == down["target"]["id"]
        assert element.box.contains(down["x"], down["y"])
        assert element.selector == down["target"]["selector"]
