"""Recording inside an iframe: top-viewport coordinates, the frame path, masking."""

from __future__ import annotations

import pytest

from demoforge.capture.browser import launch_browser
from demoforge.capture.snapshot import take
from demoforge.events import MASK_CHAR, DomSnapshot
from capture_harness import record_through_store

pytestmark = pytest.mark.browser

# frames.html: the iframe's content box starts at (100 + 5 px border, 80 + 5 px border);
# inside it #city sits at (20, 30) and #pin at (20, 100), each 200 x 26.
CITY = (105 + 20 + 50, 85 + 30 + 13)
PIN = (105 + 20 + 50, 85 + 100 + 13)
#: What is typed into the password field. Not digits alone: a bare "9876" turns up by
#: chance inside the export's millisecond timestamps (it did, in a CI run).
SECRET = "Qz9876"


def _act(page):
    page.frame_locator("#inner").locator("#pin").wait_for()
    page.mouse.click(*CITY)
    page.keyboard.type("Oslo")
    page.mouse.click(*PIN)
    page.keyboard.type(SECRET)
    page.mouse.click(20, 20)  # outside the frame: commits the PIN


@pytest.mark.parametrize("page", ["frames.html", "frames_cross_origin.html"])
def test_iframe_events(site, tmp_path, page):
    rec = record_through_store(tmp_path / "home", f"{site}/{page}", _act)
    downs = rec.of_type("pointer_down")
    assert [(d["x"], d["y"], d.get("frame"), d["target"].get("id")) for d in downs] == [
        (*CITY, "0", "city"), (*PIN, "0", "pin"), (20, 20, None, None),
    ]
    keys = [(k["key"], k["frame"], k["target"]["id"]) for k in rec.of_type("key_down")]
    assert keys == [(c, "0", "city") for c in "Oslo"] + [(MASK_CHAR, "0", "pin")] * len(SECRET)
    changes = [(c["target"]["id"], c.get("value")) for c in rec.of_type("change")]
    assert changes == [("city", "Oslo"), ("pin", None)]
    assert SECRET not in (rec.home / "export.jsonl").read_text()

    # The boundary snapshot holds the clicked element where the pointer was.
    snap_of = {s["action_id"]: s for s in rec.of_type("dom_snapshot")}
    snap = DomSnapshot.model_validate_json(rec.blob(snap_of[downs[0]["id"]]["blob"]))
    city = snap.by_ref()[downs[0]["target"]["ref"]]
    assert city.id == "city" and city.frame == "0" and city.box.contains(*CITY)
    assert snap.url == f"{site}/{page}"
    # A snapshot taken in the page shows the frame's contents too, in page coordinates.
    outer = DomSnapshot.model_validate_json(rec.blob(snap_of[downs[2]["id"]]["blob"]))
    by_id = {e.id: e for e in outer.elements if e.id}
    assert by_id["inner"].frame is None and by_id["city"].frame == "0"
    assert by_id["city"].parent == by_id["inner"].ref
    assert (by_id["city"].box.x, by_id["city"].box.y) == (125, 115)
    assert by_id["pin"].masked and by_id["pin"].value is None
    assert len({e.ref for e in outer.elements}) == len(outer.elements)
    assert sorted(s["action_id"] for s in rec.of_type("screenshot")) == sorted(snap_of)


@pytest.mark.parametrize("page", ["frames.html", "frames_cross_origin.html"])
def test_take_sees_into_frames(site, page):
    with launch_browser() as browser:
        tab = browser.new_page()
        tab.goto(f"{site}/{page}")
        tab.frame_locator("#inner").locator("#pin").wait_for()
        snap = take(tab)
    city = next(e for e in snap.elements if e.id == "city")
    assert city.frame == "0" and (city.box.x, city.box.y) == (125, 115)
