"""The in-page recording indicator: shown on recorded pages, never in the recorded data."""

from __future__ import annotations

from pathlib import Path

import pytest

from demoforge.events import DomSnapshot, DomSnapshotEvent

PAGE = Path(__file__).with_name("pages") / "canary.html"


class ListSink:
    def __init__(self) -> None:
        self.events: list = []
        self.blobs: dict[str, bytes] = {}

    def append(self, events, blobs) -> None:
        self.events += events
        self.blobs.update(blobs)


@pytest.mark.browser
def test_indicator_is_visible_and_not_recorded():
    from demoforge.capture.browser import launch_browser
    from demoforge.capture.session import Recording

    sink = ListSink()
    recording = Recording(sink)
    with launch_browser(headless=True) as browser:
        context = browser.new_context(viewport={"width": 800, "height": 600})
        recording.attach(context)
        page = context.new_page()
        page.goto(PAGE.as_uri())
        indicator = page.locator("demoforge-indicator")
        indicator.wait_for(state="visible")
        box = indicator.bounding_box()
        assert box and box["width"] > 20 and box["x"] > 400 and box["y"] > 300  # bottom right
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # clicks pass through
        recording.wait_for_screenshots(page)
        context.close()
        other = browser.new_context()  # a context that is not recorded shows nothing
        plain = other.new_page()
        plain.goto(PAGE.as_uri())
        assert plain.locator("demoforge-indicator").count() == 0
        other.close()
    snapshots = [DomSnapshot.model_validate_json(sink.blobs[e.blob]) for e in sink.events if isinstance(e, DomSnapshotEvent)]
    assert snapshots
    assert not any("Recording" in (el.text or "") or el.tag == "demoforge-indicator" for s in snapshots for el in s.elements)
    clicks = [e for e in sink.events if e.type == "click"]
    assert clicks and all(c.target is None or c.target.tag != "demoforge-indicator" for c in clicks)
