"""Recording inside an iframe: top-viewport coordinates, the frame path, masking."""

from __future__ import annotations

import pytest

from demoforge.events import MASK_CHAR, DomSnapshot
from capture_harness import record_through_store

pytestmark = pytest.mark.browser

# frames.html: the iframe's content box starts at (100 + 5 px border, 80 + 5 px border);
# inside it #city sits at (20, 30) and #pin at (20, 100), each 200 x 26.
CITY = (105 + 20 + 50, 85 + 30 + 13)
PIN = (105 + 20 + 50, 85 + 100 + 13)


def _act(page):
    page.frame_locator("#inner").locator("#pin").wait_for()
    page.mouse.click(*CITY)
    page.keyboard.type("Oslo")
    page.mouse.click(*PIN)
    page.keyboard.type("9876")
    page.mouse.click(20, 20)  # outside the frame: commits the PIN


@pytest.mark.parametrize("page", ["frames.html", "frames_cross_origin.html"])
def test_iframe_events(site, tmp_path, page):
    rec = record_through_store(tmp_path / "home", f"{site}/{page}", _act)
    downs = rec.of_type("pointer_down")
    assert [(d["x"], d["y"], d.get("frame"), d["target"].get("id")) for d in downs] == [
        (*CITY, "0", "city"), (*PIN, "0", "pin"), (20, 20, None, None),
    ]
    keys = [(k["key"], k["frame"], k["target"]["id"]) for k in rec.of_type("key_down")]
    assert keys == [(c, "0", "city") for c in "Oslo"] + [(MASK_CHAR, "0", "pin")] * 4
    changes = [(c["target"]["id"], c.get("value")) for c in rec.of_type("change")]
    assert changes == [("city", "Oslo"), ("pin", None)]
    assert "9876" not in (rec.home / "export.jsonl").read_text()

    # The boundary snapshot holds the clicked element where the pointer was; a same-origin
    # frame's snapshot is of the whole page, a cross-origin one's of the frame only.
    snap_of = {s["action_id"]: s for s in rec.of_type("dom_snapshot")}
    snap = DomSnapshot.model_validate_json(rec.blob(snap_of[downs[0]["id"]]["blob"]))
    city = snap.by_ref()[downs[0]["target"]["ref"]]
    assert city.id == "city" and city.frame == "0" and city.box.contains(*CITY)
    assert snap.url == f"{site}/{page}"
    if page == "frames.html":
        assert next(e for e in snap.elements if e.tag == "h1").frame is None
    assert sorted(s["action_id"] for s in rec.of_type("screenshot")) == sorted(snap_of)
