"""Where a frame sits in its page, for frames that cannot tell themselves.

recorder.js places events and snapshot boxes in top-level viewport coordinates
by walking up ``frameElement``; behind a cross-origin boundary that walk stops.
Such a frame reports how far it got, and Python, which sees every frame through
the browser, supplies the rest: the boundary frame's path and offset.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PlaywrightError, Frame, Page

log = logging.getLogger(__name__)

_FRAME_INDEX_JS = "e => Array.prototype.indexOf.call(e.ownerDocument.querySelectorAll('iframe,frame'), e)"
_FRAME_INSET_JS = """e => { const s = getComputedStyle(e);
  return [e.clientLeft + parseFloat(s.paddingLeft), e.clientTop + parseFloat(s.paddingTop)]; }"""


def _frame_path(frame: Frame) -> str:
    """A frame's path as recorder.js writes it: iframe indexes from the top, joined by /."""
    parts: list[str] = []
    child = frame
    while child.parent_frame is not None:
        parts.append(str(child.frame_element().evaluate(_FRAME_INDEX_JS)))
        child = child.parent_frame
    return "/".join(reversed(parts))


def _frame_place(frame: Frame) -> tuple[str, float, float]:
    """A frame's path and its content's offset in the top-level viewport."""
    element = frame.frame_element()
    box = element.bounding_box()  # in the top-level viewport
    inset_x, inset_y = element.evaluate(_FRAME_INSET_JS)
    if box is None:
        raise PlaywrightError("the frame is not displayed")
    return _frame_path(frame), box["x"] + inset_x, box["y"] + inset_y


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
        for hole in snapshot.get("unreached", []):
            hole["frame"] = frame_of(hole["frame"])
        snapshot["url"], snapshot["title"] = page.url, None
        viewport = page.viewport_size
        snapshot["viewport"] = {"x": 0, "y": 0, **viewport} if viewport else None


def fill_cross_origin(
    snapshot: dict[str, Any], page: Page, snapshot_of: Callable[[Frame], dict[str, Any]]
) -> None:
    """Add to a page's raw snapshot the contents of the cross-origin frames it lists as
    ``unreached`` (and of those frames' own), placed in page coordinates; then drop
    the list, which is not part of ``DomSnapshot``.

    ``snapshot_of(frame)`` is the frame's own raw snapshot. It is taken a moment after
    the page's, so the two may differ by what happened in between.
    """
    holes = deque(snapshot.pop("unreached", None) or [])
    if not holes:
        return
    try:
        frames = {_frame_path(f): f for f in page.frames if f.parent_frame is not None}
    except PlaywrightError as exc:
        log.warning("could not look into cross-origin frames: %s", exc)
        return
    while holes:
        hole = holes.popleft()
        frame = frames.get(hole["frame"])
        if frame is None:
            continue
        try:
            inner = snapshot_of(frame)
            path, dx, dy = _frame_place(frame)
        except PlaywrightError as exc:  # detached, or navigating meanwhile
            log.warning("left out cross-origin frame %s: %s", hole["frame"], exc)
            continue
        for nested in inner.pop("unreached", None) or []:
            holes.append({"frame": f"{path}/{nested['frame']}", "parent": nested["parent"]})
        for element in inner["elements"]:
            element["box"]["x"] += dx
            element["box"]["y"] += dy
            element["frame"] = path if element.get("frame") is None else f"{path}/{element['frame']}"
            if element.get("parent") is None:
                element["parent"] = hole["parent"]
        snapshot["elements"].extend(inner["elements"])
        if snapshot.get("focused") is None:
            snapshot["focused"] = inner.get("focused")
