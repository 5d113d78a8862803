"""A recording session: Chromium with the recorder in every page and frame.

The page does the cheap part (listening, sampling, snapshotting the DOM at the
instant of an action) and hands each event to Python through one binding.
Python owns what must be consistent across navigations and frames: the
session id, the per-session sequence number, screenshots and blobs. Every
event leaves here through a ``Sink`` (the durable client spool), never
straight to the network, so nothing recorded is lost when the collector is
down.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from playwright.sync_api import BrowserContext, Error as PlaywrightError, Page

from demoforge.capture.browser import launch_browser
from demoforge.capture.frames import fill_cross_origin, place_cross_origin
from demoforge.capture.snapshot import DEFAULT_MASK_SELECTORS, raw_snapshot, recorder_source
from demoforge.capture.spool import Spool, SpoolFull
from demoforge.capture.uploader import connect
from demoforge.events import (
    DomSnapshot,
    DomSnapshotEvent,
    Event,
    Screenshot,
    TaskEnd,
    TaskStart,
    new_event_id,
    now_ms,
    parse_event,
)

log = logging.getLogger(__name__)

#: JPEG at moderate quality: a full-HD frame is tens of kB, not MBs (see FIELD-NOTES).
SCREENSHOT_QUALITY = 60
SCREENSHOT_TIMEOUT_MS = 10_000
#: How long a failed capture waits for the navigation that failed it to commit.
SCREENSHOT_RETRY_PAUSE_MS = 100
BINDING = "__demoforgeEmit"


class Sink(Protocol):
    """Where recorded events and their blobs go (the client spool)."""

    def append(self, events: list[Event], blobs: dict[str, bytes]) -> None: ...


Actor = Callable[[Page], None]


def load_actor(path: Path) -> Actor:
    """The ``act(page)`` function of an actor file; a clear error when there is none."""
    if not path.is_file():
        raise FileNotFoundError(f"actor file {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"demoforge_actor_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    act = getattr(module, "act", None)
    if not callable(act):
        raise ValueError(f"actor file {path} must define a function act(page)")
    return act


def blob_id(data: bytes) -> str:
    """Content address of a blob: sha256 of its uncompressed bytes."""
    return hashlib.sha256(data).hexdigest()


class Recording:
    """One session's numbering and storage; receives what the pages send."""

    def __init__(
        self,
        sink: Sink,
        mask_selectors: Sequence[str] = DEFAULT_MASK_SELECTORS,
        session_id: str | None = None,
        script: str | None = None,
    ) -> None:
        self.sink = sink
        self.session_id = session_id or new_event_id()
        self.mask_selectors = tuple(mask_selectors)
        #: The recorder injected into the pages: recorder.js with these mask selectors,
        #: unless the caller brings its own (the cost benchmark compares two versions).
        self.script = script if script is not None else recorder_source(self.mask_selectors)
        self._next_seq = 0
        self._screenshots_in_flight = 0
        self._messages = 0  # received from the pages, for settle()
        self.counts: dict[str, int] = {}
        #: Set when the sink refused a batch (the spool is full): recording has stopped.
        self.failure: SpoolFull | None = None

    def attach(self, context: BrowserContext) -> None:
        """Inject the recorder into every page and frame the context will open."""
        context.expose_binding(BINDING, self._on_emit)
        config = json.dumps({"session_id": self.session_id})
        context.add_init_script(
            script=self.script + f"\nwindow.__demoforge.record({config});"
        )

    def task_start(self, instruction: str, task: str | None = None) -> None:
        self._store([TaskStart(session_id=self.session_id, seq=self._reserve(1), ts=now_ms(),
                               instruction=instruction, task=task)])

    def task_end(self) -> None:
        self._store([TaskEnd(session_id=self.session_id, seq=self._reserve(1), ts=now_ms())])

    def _reserve(self, n: int) -> int:
        """The first of ``n`` fresh sequence numbers. Taken when a message arrives, before
        anything can switch to another callback, so ``seq`` follows arrival order."""
        first = self._next_seq
        self._next_seq += n
        return first

    def _store(self, events: list[Event], blobs: dict[str, bytes] | None = None) -> bool:
        """Append a batch to the sink; after a refusal (spool full) store nothing more, so
        what was stored is a gap-free prefix of the session."""
        if self.failure is not None:
            return False
        try:
            self.sink.append(events, blobs or {})
        except SpoolFull as exc:
            log.error("recording stopped: %s", exc)
            self.failure = exc
            return False
        for event in events:
            self.counts[event.type] = self.counts.get(event.type, 0) + 1
        return True

    def _on_emit(self, source: dict[str, Any], payload: str) -> None:
        """Binding callback: number the page's events, store boundary snapshot and screenshot."""
        self._messages += 1
        try:
            data = json.loads(payload)
            first = self._reserve(len(data["events"]) + (1 if data.get("boundary") else 0))
            if data.get("cross_origin_up") is not None:
                place_cross_origin(data, source["frame"], source["page"])
            if data.get("snapshot"):
                fill_cross_origin(
                    data["snapshot"], source["page"], lambda f: raw_snapshot(f, self.mask_selectors)
                )
            events, blobs, boundary = self._parse(data, first)
        except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("ignored a malformed message from the page: %s", exc)
            return
        if self._store(events, blobs) and boundary:
            self._screenshot(source["page"], boundary)

    def _parse(
        self, data: dict[str, Any], first: int
    ) -> tuple[list[Event], dict[str, bytes], dict[str, str] | None]:
        """The page's events numbered from ``first``, and the boundary's snapshot blob."""
        events: list[Event] = []
        for raw in data["events"]:
            raw["session_id"] = self.session_id
            raw["seq"] = first + len(events)
            events.append(parse_event(raw))
        blobs: dict[str, bytes] = {}
        boundary = data.get("boundary")
        if boundary:
            snapshot = DomSnapshot.model_validate(data["snapshot"])
            body = snapshot.model_dump_json(exclude_none=True).encode()
            sha = blob_id(body)
            blobs[sha] = body
            events.append(DomSnapshotEvent(
                # the boundary's own event comes last, after the events held back before it
                session_id=self.session_id, seq=first + len(events), ts=events[-1].ts,
                blob=sha, reason=boundary["reason"], action_id=boundary["action_id"],
            ))
        return events, blobs, boundary

    def _capture(self, page: Page, attempts: int = 3) -> bytes:
        """A JPEG of the page with every masked field painted over, in all frames.

        Playwright's ``mask`` paints an opaque box over each matching element's
        bounding box; its locators run in the page's frames, so a navigation during
        the capture fails it. The next attempt waits for the new document to commit
        and be parsed, and shows it: retried at once, it meets the same navigation
        still in flight (7 of 240 captures failed so, with three attempts).
        """
        selector = ",".join(self.mask_selectors)
        for attempt in itertools.count(1):
            try:
                return page.screenshot(
                    type="jpeg",
                    quality=SCREENSHOT_QUALITY,
                    mask=[frame.locator(selector) for frame in page.frames],
                    timeout=SCREENSHOT_TIMEOUT_MS,
                )
            except PlaywrightError:
                if page.is_closed() or attempt >= attempts:
                    raise
            page.wait_for_timeout(SCREENSHOT_RETRY_PAUSE_MS)  # the new document commits
            page.wait_for_load_state("domcontentloaded", timeout=SCREENSHOT_TIMEOUT_MS)

    def settle(self, page: Page, quiet_ms: int = 100, max_rounds: int = 50) -> None:
        """Before closing: make every frame send what it holds back, and wait until the
        page has gone quiet (no message for ``quiet_ms``, no screenshot being taken),
        so that closing loses nothing.

        A frame's messages reach Python in order, so once its ``flush()`` call has
        answered, everything it sent before has arrived. Events that the last action
        causes in another process (a cross-origin frame losing focus commits its
        value) can come a little later: hence the quiet period.
        """
        for _ in range(max_rounds):
            seen = self._messages
            for frame in page.frames:
                try:
                    frame.evaluate("() => window.__demoforge && window.__demoforge.flush()")
                except PlaywrightError:  # detached or navigating: it flushed on pagehide
                    continue
            self.wait_for_screenshots(page)
            if page.is_closed():
                return
            page.wait_for_timeout(quiet_ms)
            if self._messages == seen and not self._screenshots_in_flight:
                return

    def wait_for_screenshots(self, page: Page) -> None:
        """Let screenshots still being taken finish."""
        while self._screenshots_in_flight and not page.is_closed():
            page.wait_for_timeout(20)

    def _screenshot(self, page: Page, boundary: dict[str, str]) -> None:
        self._screenshots_in_flight += 1
        try:
            image = self._capture(page)
        except PlaywrightError as exc:  # the page closed mid-capture
            log.warning("no screenshot for %s %s: %s", boundary["reason"], boundary["action_id"], exc)
            return
        finally:
            self._screenshots_in_flight -= 1
        viewport = page.viewport_size or {}
        sha = blob_id(image)
        self._store(
            [Screenshot(
                session_id=self.session_id, seq=self._reserve(1), ts=now_ms(), blob=sha,
                reason=boundary["reason"], action_id=boundary["action_id"],
                width=viewport.get("width"), height=viewport.get("height"),
            )],
            {sha: image},
        )


def record(
    url: str,
    sink: Sink,
    *,
    actor: Actor | None = None,
    headless: bool = True,
    instruction: str | None = None,
    mask_selectors: Sequence[str] = DEFAULT_MASK_SELECTORS,
) -> Recording:
    """Record one session on ``url``: scripted by ``actor``, or until the person closes the window.

    Raises ``SpoolFull`` when the sink refused events (the collector has been out of
    reach too long): what was spooled before is complete and gap-free, nothing after.
    """
    recording = Recording(sink, mask_selectors)
    recording.task_start(instruction or f"Work on {url}")
    with launch_browser(headless=headless) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        recording.attach(context)
        page = context.new_page()
        page.goto(url)
        if actor is not None:
            actor(page)
            recording.settle(page)
        else:
            _wait_until_closed(context)
        context.close()
    recording.task_end()
    if recording.failure is not None:
        raise recording.failure
    return recording


def record_and_upload(
    url: str,
    *,
    actor: Actor | None = None,
    headless: bool = True,
    instruction: str | None = None,
    server: str | None = None,
    token: str | None = None,
    spool_path: Path | None = None,
    flush_timeout: float = 60.0,
    guard: Callable[[Sink], Sink] | None = None,
) -> tuple[Recording, bool]:
    """Record into the durable spool while an uploader drains it to the collector
    (the embedded store when ``server`` is None).

    Returns the recording and whether everything reached the collector; what did
    not stays spooled and goes first on the next run. ``guard`` wraps the spool
    (see ``demoforge.privacy.recording_guard``: consent, allowlist, redaction).
    """
    with Spool(spool_path) as spool:
        uploader = connect(spool, server, token)
        uploader.start()
        try:
            sink = guard(spool) if guard else spool
            recording = record(url, sink, actor=actor, headless=headless, instruction=instruction)
        finally:
            delivered = uploader.stop(flush_timeout=flush_timeout)
        if uploader.error is not None:
            raise uploader.error
    return recording, delivered


def _wait_until_closed(context: BrowserContext) -> None:
    """Block while the person works: until every tab of the window is closed."""
    while context.pages:
        try:
            context.pages[0].wait_for_event("close", timeout=0)
        except PlaywrightError:  # the browser itself went away
            return
