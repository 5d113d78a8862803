"""MiniWoB++ task pages as a gymnasium-like environment, driven by Playwright.

The pages come from the ``miniwob`` package on PyPI and are served over a
local HTTP server (the flight tasks load an iframe and refuse ``file://``). An episode starts the way the
package's gymnasium environment starts one, through the page's JS API:
``Math.seedrandom(seed)``, ``core.setDataMode("train")``,
``core.startEpisodeReal()``, then wait for ``WOB_TASK_READY``. The episode's
time limit is the page's own ``core.EPISODE_MAX_TIME`` (10 s by default, more
on the slower tasks), exactly as the package leaves it.

Only the *environment* reads ``WOB_DONE_GLOBAL`` / ``WOB_RAW_REWARD_GLOBAL``.
What it hands to an agent is what a person sees: the instruction text shown on
the page and a DOM snapshot of the task area taken with the recorder's own
snapshot code, so the policy is evaluated on the observations it trained on.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from functools import cache
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import miniwob
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from demoforge.capture import snapshot
from demoforge.events import Box, DomSnapshot, Element

#: The page files of the installed ``miniwob`` package.
HTML_DIR = Path(miniwob.__file__).parent / "html"

#: The task area every MiniWoB++ page draws in (``#wrap`` in core.css).
TASK_AREA = Box(x=0, y=0, width=160, height=210)

#: Elements that are part of the benchmark's harness, not of the task: the
#: instruction (handed over as text), the start cover and the reward display.
HARNESS_IDS = frozenset({"query", "sync-task-cover", "reward-display", "click-canvas"})

#: The query box's text as ``core.getUtterance`` reads it, and the same text with
#: each element that draws something without words written as its classes; null
#: where the box draws nothing so.
QUERY_WITH_ICONS = """() => {
    const query = document.getElementById('query');
    if (!query) { return null; }
    let icons = 0;
    const read = (node) => {
        if (node.nodeType === Node.TEXT_NODE) { return node.textContent; }
        if (node.nodeType !== Node.ELEMENT_NODE) { return ''; }
        const classes = node.getAttribute('class');
        if (!node.textContent.trim() && classes && classes.trim()) { icons += 1; return ' ' + classes.trim() + ' '; }
        return Array.from(node.childNodes).map(read).join('');
    };
    const tidy = (text) => text.replace(/\\s+/g, ' ').trim();
    const drawn = tidy(read(query));
    return icons ? [tidy(query.textContent), drawn] : null;
}"""

#: The viewport: the task area plus the harness's reward column beside it.
VIEWPORT: ViewportSize = {"width": 500, "height": 240}

#: The flight pages draw their task in a 375 x 667 phone-sized iframe (``#wrap`` in
#: flight-common/wrapper.css) with the instruction column to its right.
FLIGHT_AREA = Box(x=0, y=0, width=375, height=667)
FLIGHT_VIEWPORT: ViewportSize = {"width": 560, "height": 680}


def task_layout(task: str) -> tuple[ViewportSize, Box]:
    """The viewport a task's page needs and the task area inside it."""
    if task.startswith("flight."):
        return FLIGHT_VIEWPORT, FLIGHT_AREA
    return VIEWPORT, TASK_AREA


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without writing a log line per request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@cache
def base_url() -> str:
    """A local HTTP server for the package's pages, started once per process."""
    handler = functools.partial(_QuietHandler, directory=str(HTML_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="miniwob-http").start()
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def task_path(task: str) -> Path:
    """The page file of a task: ``click-button`` or ``flight.Alaska-auto``."""
    if task.startswith("flight."):
        path = HTML_DIR / "flight" / task.split(".", 1)[1] / "wrapper.html"
    else:
        path = HTML_DIR / "miniwob" / f"{task}.html"
    if not path.is_file():
        raise ValueError(f"unknown MiniWoB++ task {task!r} (no page at {path})")
    return path


def task_url(task: str) -> str:
    return base_url() + task_path(task).relative_to(HTML_DIR).as_posix()


@dataclass
class Observation:
    """What the agent is given: the instruction as shown, and the page."""

    instruction: str
    snapshot: DomSnapshot


@dataclass
class Outcome:
    """How an episode ended, read from the page's reward globals."""

    done: bool
    reward: float
    raw_reward: float
    reason: str | None

    @property
    def success(self) -> bool:
        return self.raw_reward > 0


def in_harness(e: Element) -> bool:
    """``e`` is a harness element, or inside one. A harness element with no words of its
    own is not in the snapshot (count-shape's query holds its text in a child ``div``),
    but the selector of what lies inside it starts at its id."""
    first = (e.selector or "").split(" > ", 1)[0]
    return e.id in HARNESS_IDS or (first.startswith("#") and first[1:] in HARNESS_IDS)


def task_area_only(snap: DomSnapshot, area: Box = TASK_AREA) -> DomSnapshot:
    """The snapshot without harness elements and without what lies outside the task area.

    Mirrors the benchmark's own ``core.getDOMInfo``, which leaves out the
    query, the start cover and the reward display: the recordings were made
    from that view, so the agent is given the same one. A page that frames its
    task in an iframe (the flight pages) was recorded from inside that frame:
    the frame element goes and its document's elements become top-level ones.
    """
    harness = {e.ref for e in snap.elements if in_harness(e)}
    frames = {e.ref for e in snap.elements if e.tag == "iframe" and e.id == "wrap"}
    dropped: set[int] = set()
    kept = []
    for e in snap.elements:  # parents come before their children in a snapshot
        if e.ref in harness or e.parent in dropped or not area.contains(*e.box.middle()):
            dropped.add(e.ref)
            continue
        if e.ref in frames:
            continue
        kept.append(e.model_copy(update={"parent": None}) if e.parent in frames else e)
    kept_refs = {e.ref for e in kept}
    focused = snap.focused if snap.focused in kept_refs else None
    return snap.model_copy(update={"elements": kept, "focused": focused})


class MiniWoBEnv:
    """One MiniWoB++ task in one browser tab: ``reset(seed)``, ``observe()``, ``outcome()``.

    Acting is not done here: the agent acts on ``env.page`` through real
    input, exactly as it would on any other web page. ``step`` is offered for
    gymnasium-style callers and performs an action through the same path.
    """

    READY_TIMEOUT_S = 10.0

    def __init__(self, browser: Browser, task: str, data_mode: str = "train") -> None:
        self.task = task
        self.url = task_url(task)
        self.data_mode = data_mode
        viewport, self.area = task_layout(task)
        self._context: BrowserContext = browser.new_context(viewport=viewport)
        self.page: Page = self._context.new_page()
        self.page.goto(self.url)
        self.page.wait_for_selector("#sync-task-cover", state="attached")

    def reset(self, seed: int | str) -> Observation:
        """Start a fresh episode whose random instance is fixed by ``seed``.

        It starts unfocused, as a freshly opened page does. Tasks re-use their
        elements between episodes (click-test-2's two buttons), so the focus the
        last episode's click left would tell the policy that this episode's
        button had been pressed already, and each episode would depend on the
        one before it. The pointer starts outside the task, as a person's hand
        leaves the start cover: left where the last episode's click was, it
        rests on whatever the new instance draws there, and a menu item under
        it opens its submenu before the agent has done anything.
        """
        page = self.page
        if self.task.startswith("flight."):
            # The flight pages live in an iframe that must be reloaded cleanly.
            page.goto(self.url)
            page.wait_for_selector("#sync-task-cover", state="attached")
        viewport = page.viewport_size or VIEWPORT
        page.mouse.move(viewport["width"] - 1, viewport["height"] - 1)  # the corner beyond the task area
        page.evaluate(
            """([seed, mode]) => {
                if (core.EP_TIMER !== null) { core.endEpisode(0); }
                if (document.activeElement) { document.activeElement.blur(); }
                Math.seedrandom(seed);
                core.setDataMode(mode);
                core.startEpisodeReal();
            }""",
            [str(seed), self.data_mode],
        )
        deadline = time.monotonic() + self.READY_TIMEOUT_S
        while not page.evaluate("WOB_TASK_READY"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.task}: the page did not become ready")
            page.wait_for_timeout(50)
        return self.observe()

    def instruction(self) -> str:
        """The instruction as the page shows it to a person (the query box's text).

        The natural-language tasks return ``{utterance, fields}``; only the
        utterance is what a person reads, the fields are the answer key. Where
        the query box draws a picture without words (click-menu-2's "the item
        with the [play icon] icon") and the page's utterance is just the box's
        text, the picture is written as its classes, as the policy reads the
        icon it stands for; a page that words its picture itself (click-color's
        swatch) keeps its words.
        """
        response = self.page.evaluate("core.getUtterance()")
        utterance = response["utterance"] if isinstance(response, dict) else response
        read, drawn = self.page.evaluate(QUERY_WITH_ICONS) or (None, None)
        return drawn if utterance == read else utterance

    def observe(self) -> Observation:
        return Observation(
            instruction=self.instruction(),
            snapshot=task_area_only(snapshot.take(self.page), self.area),
        )

    def outcome(self) -> Outcome:
        """Done flag and rewards, read from the page's globals (environment only)."""
        done, reward, raw, reason = self.page.evaluate(
            "[WOB_DONE_GLOBAL, WOB_REWARD_GLOBAL, WOB_RAW_REWARD_GLOBAL, WOB_REWARD_REASON]"
        )
        return Outcome(bool(done), float(reward), float(raw), reason)

    def step(self, action: Any) -> tuple[Observation | None, float, bool, bool, dict[str, Any]]:
        """Perform ``action`` through real input; gymnasium's 5-tuple (truncation is the caller's)."""
        from demoforge.agent.actuate import perform

        perform(self.page, action, self.observe().snapshot)
        out = self.outcome()
        obs = None if out.done else self.observe()
        return obs, out.reward, out.done, False, {"raw_reward": out.raw_reward, "reason": out.reason}

    def close(self) -> None:
        self._context.close()
