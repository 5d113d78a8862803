"""The recorder keeps the person's input, not the events a page's scripts dispatch."""

from __future__ import annotations

import pytest

from capture_harness import record_through_store

pytestmark = pytest.mark.browser


def _act(page):
    page.mouse.click(100, 55)  # #open, whose handler clicks the hidden #file
    page.mouse.click(140, 113)  # #name
    page.keyboard.press("Enter")  # the page answers with a script's Tab key_down


def test_a_click_or_key_a_script_dispatches_is_not_recorded(site, tmp_path):
    """``element.click()`` is how widgets open a hidden file input or set a styled radio: the
    event carries no position (a click at 0, 0), and a dataset that kept it would teach a
    policy a second click the person never made."""
    rec = record_through_store(tmp_path / "home", f"{site}/scripted.html", _act)
    clicks = [(c["x"], c["y"], c["target"].get("id")) for c in rec.of_type("click")]
    assert clicks == [(100, 55, "open"), (140, 113, "name")]
    assert [k["key"] for k in rec.of_type("key_down")] == ["Enter"]
