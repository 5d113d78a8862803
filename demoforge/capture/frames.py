"""Where a frame sits in its page, for frames that cannot tell themselves.

recorder.js places events and snapshot boxes in top-level viewport coordinates
by walking up ``frameElement``; behind a cross-origin boundary that walk stops.
Such a frame reports how far it got, and Python, which sees every frame through
the browser, supplies the rest: the boundary frame's path and offset.
"""

from __future__ import annotations

import logging
from typing import Any

from playwright.sync_api import Error as PlaywrightError, Frame, Page

log = logging.getLogger(__name__)

_FRAME_INDEX_JS = "e => Array.prototype.indexOf.call(e.ownerDocument.querySelectorAll('iframe,frame'), e)"
_FRAME_INSET_JS = """e => { const s = getComputedStyle(e);
  return [e.clientLeft + parseFloat(s.paddingLeft), e.clientTop + parseFloat(s.paddingTop)]; }"""


def _frame_place(frame: Frame) -> tuple[str, float, float]:
    """A frame's path (as recorder.js writes it) and its content's offset in the page."""
    parts: list[str] = []
    child = frame
    while child.parent_frame is not None:
        parts.append(str(child.frame_element().evaluate(_FRAME_INDEX_JS)))
        child = child.parent_frame
    element = frame.frame_element()
    box = element.bounding_box()  # in the top-level viewport
    inset_x, inset_y = element.evaluate(_FRAME_INSET_JS)
    if box is None:
        raise PlaywrightError("the frame is not displayed")
    return "/".join(reversed(parts)), box["x"] + inset_x, box["y"] + inset_y


def place_cross_origin(data: dict[str, Any], frame: Frame, page: Page) -> None:
    """Move a message from behind a cross-origin boundary into page coordinates.

    Such a frame cannot see its own place in the page (see frameInfo in recorder.js):
    its positions are relative to the boundary frame ``cross_origin_up`` levels up,
    whose place Python asks the browser for.
    """
    root = frame
    for _ in range(data["cross_origin_up"]):
        root = root.parent_frame or root
    try:
        path, dx, dy = _frame_place(root)
    except PlaywrightError as exc:  # detached meanwhile: keep the frame-relative positions
        log.warning("could not place a cross-origin frame: %s", exc)
        return

    def frame_of(relative: str | None) -> str:
        return path if relative is None else f"{path}/{relative}"

    def shift(box: dict[str, float]) -> None:
        box["x"] += dx
        box["y"] += dy

    for event in data["events"]:
        if "x" in event:
            shift(event)
        if event.get("target", {}).get("box"):
            shift(event["target"]["box"])
        event["frame"] = frame_of(event.get("frame"))
    snapshot = data.get("snapshot")
    if snapshot:
        for element in snapshot["elements"]:
            shift(element["box"])
            element["frame"] = frame_of(element.get("frame"))
        snapshot["url"], snapshot["title"] = page.url, None
        viewport = page.viewport_size
        snapshot["viewport"] = {"x": 0, "y": 0, **viewport} if viewport else None
