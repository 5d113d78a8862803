"""Observe a live page as a simplified DOM snapshot, with the recorder's own code.

The recorder stores a snapshot at every action boundary and the agent observes
pages with ``take``; both run ``recorder.js``'s ``snapshot()``, so what a model
was trained on is what it sees at run time. ``take`` loads the script when the
page lacks it but never starts recording.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

from playwright.sync_api import Frame, Page

from demoforge.capture.frames import fill_cross_origin
from demoforge.events import DomSnapshot, Element

#: Fields matching any of these are masked: their value is never read, their keys are
#: recorded as ``MASK_CHAR`` and their region is painted over in screenshots.
DEFAULT_MASK_SELECTORS: tuple[str, ...] = (
    "input[type=password]",
    "input[type=hidden]",
    "[data-private]",
    "[autocomplete^='cc-']",
)


@lru_cache(maxsize=8)
def recorder_source(
    mask_selectors: tuple[str, ...] = DEFAULT_MASK_SELECTORS, source: str | None = None
) -> str:
    """``recorder.js`` with the mask selectors filled in (validated as CSS by the browser).

    ``source`` replaces this package's ``recorder.js``: the cost benchmark passes an
    earlier version of it, to measure both in the same run."""
    if not mask_selectors:
        raise ValueError("at least one mask selector is required")
    if source is None:
        source = files("demoforge.capture").joinpath("recorder.js").read_text(encoding="utf-8")
    return source.replace("__DEMOFORGE_MASK__", json.dumps(list(mask_selectors)))


def raw_snapshot(
    target: Page | Frame, mask_selectors: Sequence[str] = DEFAULT_MASK_SELECTORS
) -> dict[str, Any]:
    """What ``snapshot()`` returns in one page or frame (loading the script when it is
    missing), as a dict: a ``DomSnapshot`` plus its ``unreached`` cross-origin frames."""
    script = recorder_source(tuple(mask_selectors))
    return json.loads(target.evaluate(
        "() => { if (!window.__demoforge) {\n" + script + "\n}"
        " return JSON.stringify(window.__demoforge.snapshot()); }"
    ))


def take(
    page: Page | Frame, mask_selectors: Sequence[str] = DEFAULT_MASK_SELECTORS
) -> DomSnapshot:
    """The page's snapshot now, cross-origin frames included; loads the recorder script
    where it is missing."""
    raw = raw_snapshot(page, mask_selectors)
    if isinstance(page, Page):
        fill_cross_origin(raw, page, lambda frame: raw_snapshot(frame, mask_selectors))
    else:
        raw.pop("unreached", None)
    return DomSnapshot.model_validate(raw)


#: Points per side of the grid a partly covered element is searched on for a point in sight.
COVER_GRID = 8


def where_drawn(page: Page, element: Element, x: float, y: float) -> tuple[float, float] | None:
    """A point where ``page`` draws ``element`` (or something inside it), which is where a
    person sees it: (x, y) when it is drawn there, else the middle of the part of it in
    sight or the point in sight nearest that middle, else None (scrolled out of its
    list's sight, or covered).

    A box says where an element is laid out, not what of it shows. A list row half
    cut by its scrolling list's edge has its middle on that edge, where the page
    draws the list's frame or what lies below the list (a selectric drop-down's
    third row): a person clicks the half that shows. The part in sight is the
    element's box cut by every ancestor that clips what overflows it, and by the
    window. A button partly under another (two laid out over each other) is clicked on
    its part in sight, the grid point nearest its middle: a click at its middle lands
    on the other. An element the page no longer has, or one inside a frame, counts as
    drawn where it is."""
    if element.frame or not element.selector:
        return x, y
    seen = page.evaluate(
        """([selector, x, y, grid]) => {
          const el = document.querySelector(selector);
          if (!el) return [x, y];
          const shows = (px, py) => {
            const hit = document.elementFromPoint(px, py);
            return hit !== null && el.contains(hit);
          };
          if (shows(x, y)) return [x, y];
          const r = el.getBoundingClientRect();
          let [left, top, right, bottom] = [r.left, r.top, r.right, r.bottom];
          for (let a = el.parentElement; a; a = a.parentElement) {
            const style = getComputedStyle(a);
            if (style.overflowX === "visible" && style.overflowY === "visible") continue;
            const c = a.getBoundingClientRect();
            const l = c.left + a.clientLeft, t = c.top + a.clientTop;
            [left, top] = [Math.max(left, l), Math.max(top, t)];
            [right, bottom] = [Math.min(right, l + a.clientWidth), Math.min(bottom, t + a.clientHeight)];
          }
          [left, top] = [Math.max(left, 0), Math.max(top, 0)];
          [right, bottom] = [Math.min(right, innerWidth), Math.min(bottom, innerHeight)];
          if (right - left < 1 || bottom - top < 1) return null;
          const [mx, my] = [(left + right) / 2, (top + bottom) / 2];
          if (shows(mx, my)) return [mx, my];
          // Partly covered: the point in sight nearest the middle, on a grid over the part.
          let best = null, bestD = Infinity;
          for (let i = 0; i < grid; i++) {
            for (let j = 0; j < grid; j++) {
              const px = left + (right - left) * (i + 0.5) / grid, py = top + (bottom - top) * (j + 0.5) / grid;
              const d = (px - mx) ** 2 + (py - my) ** 2;
              if (d < bestD && shows(px, py)) [best, bestD] = [[px, py], d];
            }
          }
          return best;
        }""",
        [element.selector, x, y, COVER_GRID],
    )
    return None if seen is None else (float(seen[0]), float(seen[1]))
