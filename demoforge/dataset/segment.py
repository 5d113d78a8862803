"""Cut a session into episodes: one attempt at one task each.

An imported demonstration is one episode from ``task_start`` to ``task_end``.
A native recording may run for hours across many tasks. Where the person (or
the tool that drove them) marked tasks, the markers decide: an episode runs
from a ``task_start`` to its ``task_end`` (or to the next ``task_start``), and
takes its instruction, task and outcome from them. Where there are no markers,
a new episode starts when the person navigates to another page (a different
origin or path; query and fragment changes stay in the episode) or comes back
after an idle gap; such episodes have no instruction.

Episodes are ranges of ``seq`` so that the observations recorded before an
episode's first event (the page as it was when the task began) stay usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urlsplit

from demoforge.events import Event, Navigation, PointerMove, TaskEnd, TaskStart

#: No input for this long ends an unmarked episode (ms).
IDLE_GAP_MS = 120_000

#: Event types that are a person's input, for measuring idle gaps.
INPUT_TYPES = frozenset(
    {
        "pointer_down",
        "pointer_up",
        "click",
        "dblclick",
        "wheel",
        "key_down",
        "key_up",
        "input",
        "change",
    }
)


@dataclass(frozen=True)
class Episode:
    """Events ``start_seq..end_seq`` (inclusive) of a session, as one task attempt."""

    session_id: str
    index: int
    start_seq: int
    end_seq: int
    instruction: str | None = None
    task: str | None = None
    outcome: str = "unknown"
    reward: float | None = None

    @property
    def id(self) -> str:
        return f"{self.session_id}/{self.index}"

    def contains(self, seq: int) -> bool:
        return self.start_seq <= seq <= self.end_seq


def segment(events: Sequence[Event], idle_gap_ms: int = IDLE_GAP_MS) -> list[Episode]:
    """The episodes of one session's events (sorted by ``seq``)."""
    if not events:
        return []
    if any(isinstance(e, TaskStart) for e in events):
        return _by_markers(events)
    return _by_navigation_and_idle(events, idle_gap_ms)


def _by_markers(events: Sequence[Event]) -> list[Episode]:
    episodes: list[Episode] = []
    start: TaskStart | None = None
    last_seq = events[0].seq
    for event in events:
        if isinstance(event, TaskStart):
            if start is not None:
                episodes.append(_marked(start, last_seq, None, len(episodes)))
            start = event
        elif isinstance(event, TaskEnd) and start is not None:
            episodes.append(_marked(start, event.seq, event, len(episodes)))
            start = None
        last_seq = event.seq
    if start is not None:
        episodes.append(_marked(start, last_seq, None, len(episodes)))
    return episodes


def _marked(start: TaskStart, end_seq: int, end: TaskEnd | None, index: int) -> Episode:
    return Episode(
        session_id=start.session_id,
        index=index,
        start_seq=start.seq,
        end_seq=end_seq,
        instruction=start.instruction,
        task=start.task,
        outcome=end.outcome if end else "unknown",
        reward=end.reward if end else None,
    )


def _page(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path


def _by_navigation_and_idle(events: Sequence[Event], idle_gap_ms: int) -> list[Episode]:
    session_id = events[0].session_id
    bounds: list[int] = [0]
    page: tuple[str, str, str] | None = None
    last_input_ts: int | None = None
    for i, event in enumerate(events):
        cut = False
        if isinstance(event, Navigation):
            new_page = _page(event.url)
            cut = page is not None and new_page != page
            page = new_page
        elif event.type in INPUT_TYPES and not isinstance(event, PointerMove):
            cut = last_input_ts is not None and event.ts - last_input_ts > idle_gap_ms
            last_input_ts = event.ts
        if cut and i > bounds[-1]:
            bounds.append(i)
    bounds.append(len(events))
    return [
        Episode(session_id=session_id, index=n, start_seq=events[a].seq, end_seq=events[b - 1].seq)
        for n, (a, b) in enumerate(pairwise(bounds))
    ]
