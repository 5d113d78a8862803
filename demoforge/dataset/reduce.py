"""Raw events to high-level actions: one code path for imported and native recordings.

A recording says what the hands did; training wants what the person meant.
``reduce_events`` walks a session's events once and folds them:

- pointer moves are dropped into the action they lead to;
- pointer down and up at (nearly) one point is a ``click`` (its ``key`` names
  the modifiers held through it: Control-click); at two points a ``drag``; a
  ``dblclick`` event turns the clicks before it into one ``dblclick``; the
  browser's ``click`` event after down/up is part of it;
- keys typed into one editable field become one ``type`` action whose text
  is the field's text afterwards: printable keys insert, Backspace/Delete
  remove, Shift is already in the key, arrows/Home/End move the caret,
  Control+A selects all so the next key replaces everything; a recorded
  ``input``/``change`` value for the field overrides the simulation, which is
  how pasted or auto-completed text is seen;
- other keys (Enter, Tab, Escape, shortcuts, keys outside a field) are
  ``press`` actions with a Playwright key combination; a key held down (its
  key_down repeating without a key_up) is one press; modifiers alone, keys the
  browser could not name and input-method keys are no actions; the ``click``
  the browser dispatches for an Enter or Space (a focused button, a form sent
  from its field) is part of the press;
- a pointer still down when the episode ends is a ``click`` (the page ended
  the task on mousedown);
- wheel and scroll events on one target merge into one ``scroll``;
- a ``change`` on a ``<select>`` is a ``select`` action and replaces the
  clicks that opened the list.

Each action is paired with what the person saw just before it: the DOM
snapshot (and screenshot) whose ``action_id`` names the action's first
non-move event, or else the latest one at or before it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from demoforge.dataset.actions import MODIFIERS, Action
from demoforge.dataset.datetime_fields import SEGMENTED_INPUT_TYPES, keyed_text
from demoforge.events import (
    Change,
    Click,
    DblClick,
    DomSnapshot,
    DomSnapshotEvent,
    Event,
    Input,
    KeyDown,
    KeyUp,
    Modifiers,
    Navigation,
    PointerDown,
    PointerEvent,
    PointerMove,
    PointerUp,
    Screenshot,
    Scroll,
    Target,
    TaskEnd,
    TaskStart,
    Wheel,
)

#: A pointer that moved further than this between down and up dragged (CSS px).
DRAG_THRESHOLD_PX = 5.0
#: A click without its own down/up this soon after a click at the same point was
#: dispatched by the page, not made by the person (ms); so was one this soon after an
#: activating key (``ACTIVATING_KEYS``).
SYNTHETIC_CLICK_MS = 1000
#: Keys whose press the browser answers with a click: on a focused button, link or
#: checkbox, and Enter in a form's field clicks its submit button.
ACTIVATING_KEYS = frozenset({"Enter", " "})
MODIFIER_KEYS = frozenset({"Shift", "Control", "Alt", "Meta", "CapsLock", "AltGraph", "Fn"})
#: Keys that are no action of their own: modifiers, keys the browser could not name
#: (hardware noise), and an input method's composition keys (its text comes as input).
SILENT_KEYS = MODIFIER_KEYS | {"Unidentified", "Process", "Dead"}
TEXT_INPUT_TYPES = frozenset(
    {
        "text",
        "password",
        "email",
        "search",
        "tel",
        "url",
        "number",
        "date",
        "time",
        "datetime-local",
        "month",
        "week",
    }
)


@dataclass(frozen=True)
class Step:
    """An action and the observation paired with it (blob names in the store)."""

    action: Action
    snapshot: str | None
    screenshot: str | None


def is_editable(target: Target | None) -> bool:
    if target is None:
        return False
    if target.tag == "textarea" or target.role in ("textbox", "searchbox"):
        return target.tag != "input" or (target.input_type or "text") in TEXT_INPUT_TYPES
    return target.tag == "input" and (target.input_type or "text") in TEXT_INPUT_TYPES


def same_element(a: Target | None, b: Target | None) -> bool:
    if a is None or b is None:
        return False
    if a.ref is not None and b.ref is not None:
        return a.ref == b.ref
    return (a.selector or a.id) is not None and (a.selector, a.id, a.tag) == (
        b.selector,
        b.id,
        b.tag,
    )


def key_combination(event: KeyDown) -> str:
    """Playwright's spelling: ``Control+a``, ``Shift+Tab``; Shift is left out when
    the key is a character that already shows it (``A``, ``!``)."""
    return "+".join([*held(event.modifiers, shift=len(event.key) != 1), event.key])


def held(mods: Modifiers, shift: bool = True) -> list[str]:
    """The modifier keys down, in Playwright's names and order (Control, Alt, Meta, Shift)."""
    on = {"Control": mods.ctrl, "Alt": mods.alt, "Meta": mods.meta, "Shift": mods.shift and shift}
    return [name for name in MODIFIERS if on[name]]


def clicked_holding(event: PointerEvent) -> str | None:
    """A click's ``key``: the modifiers held through it, None for a plain click."""
    return "+".join(held(event.modifiers)) or None


@dataclass
class _Field:
    """The text of the field being typed into, with caret and selection, as keys arrive."""

    target: Target
    first: Event
    initial: str
    text: str
    caret: int
    anchor: int | None = None  # the other end of the selection, None when nothing is selected
    last: Event | None = None

    def selection(self) -> tuple[int, int]:
        if self.anchor is None:
            return self.caret, self.caret
        return min(self.anchor, self.caret), max(self.anchor, self.caret)

    def replace_selection(self, new: str) -> None:
        start, end = self.selection()
        self.text = self.text[:start] + new + self.text[end:]
        self.caret, self.anchor = start + len(new), None

    def key(self, event: KeyDown) -> bool:
        """Apply one key; False if it is not an editing key (it ends the run)."""
        key, mods = event.key, event.modifiers
        shortcut = mods.ctrl or mods.meta
        if self.target.input_type in SEGMENTED_INPUT_TYPES and not shortcut and (
            len(key) == 1 or key in ("Backspace", "Delete")
        ):
            # A date or time field's keys fill its segments, not a text: only the
            # value the page reads afterwards says what the field holds.
            self.last = event
            return True
        start, end = self.selection()
        if shortcut and key.lower() == "a":
            self.anchor, self.caret = 0, len(self.text)
        elif shortcut and key.lower() in ("v", "x"):
            if key.lower() == "x":
                self.replace_selection("")
            # A paste's text is not in the keys: the next recorded value says what it was.
        elif key == "Backspace":
            if start == end and start > 0:
                cut = _word_start(self.text, start) if shortcut else start - 1
                self.text, self.caret = self.text[:cut] + self.text[start:], cut
                self.anchor = None
            else:
                self.replace_selection("")
        elif key == "Delete":
            if start == end:
                self.text = self.text[:start] + self.text[start + 1 :]
                self.anchor = None
            else:
                self.replace_selection("")
        elif key in ("ArrowLeft", "ArrowRight", "Home", "End"):
            self._move(key, mods.shift)
        elif len(key) == 1 and not shortcut and not mods.alt:
            self.replace_selection(key)
        else:
            return False
        self.last = event
        return True

    def _move(self, key: str, extend: bool) -> None:
        if extend and self.anchor is None:
            self.anchor = self.caret
        elif not extend:
            start, end = self.selection()
            if self.anchor is not None and key in ("ArrowLeft", "ArrowRight"):
                self.caret, self.anchor = (start if key == "ArrowLeft" else end), None
                return
            self.anchor = None
        target = {
            "ArrowLeft": self.caret - 1,
            "ArrowRight": self.caret + 1,
            "Home": 0,
            "End": len(self.text),
        }[key]
        self.caret = max(0, min(len(self.text), target))


def _word_start(text: str, caret: int) -> int:
    i = caret
    while i > 0 and text[i - 1] == " ":
        i -= 1
    while i > 0 and text[i - 1] != " ":
        i -= 1
    return i


@dataclass
class _Observations:
    """Finds the snapshot and screenshot paired with an anchor event."""

    by_action: dict[str, str] = field(default_factory=dict)
    shots_by_action: dict[str, str] = field(default_factory=dict)
    latest: list[tuple[int, str]] = field(default_factory=list)
    latest_shots: list[tuple[int, str]] = field(default_factory=list)

    def add(self, event: DomSnapshotEvent | Screenshot) -> None:
        exact, ordered = (
            (self.by_action, self.latest)
            if isinstance(event, DomSnapshotEvent)
            else (self.shots_by_action, self.latest_shots)
        )
        if event.action_id:
            exact.setdefault(event.action_id, event.blob)
        ordered.append((event.seq, event.blob))

    @staticmethod
    def _at(exact: dict[str, str], ordered: list[tuple[int, str]], anchor: Event) -> str | None:
        if anchor.id in exact:
            return exact[anchor.id]
        # ``ordered`` is in seq order (events are added in order): the last one at or before.
        index = bisect.bisect_right(ordered, (anchor.seq, "\uffff"))
        return ordered[index - 1][1] if index else None

    def snapshot(self, anchor: Event) -> str | None:
        return self._at(self.by_action, self.latest, anchor)

    def screenshot(self, anchor: Event) -> str | None:
        return self._at(self.shots_by_action, self.latest_shots, anchor)


class _Reducer:
    def __init__(self, events: list[Event], snapshots: Mapping[str, DomSnapshot]) -> None:
        self.events = events
        self.snapshots = snapshots
        self.observed = _Observations()
        for event in events:
            if isinstance(event, (DomSnapshotEvent, Screenshot)):
                self.observed.add(event)
        self.steps: list[tuple[Action, Event]] = []
        self.field: _Field | None = None
        self.down: PointerDown | None = None
        self.awaiting_click = False  # a down/up was just reduced; its click event is expected
        self.held: set[str] = set()  # keys down now (by code): a key_down of one is a repeat
        self.move_start: int | None = None
        self.scroll_run: list[Wheel | Scroll] = []
        self.scroll_positions: dict[str, tuple[float, float]] = {}

    def run(self) -> list[Step]:
        for event in self.events:
            self.handle(event)
        self.end_typing()
        self.end_scroll()
        self.end_press()
        return [
            Step(action, self.observed.snapshot(anchor), self.observed.screenshot(anchor))
            for action, anchor in self.steps
        ]

    def emit(
        self, anchor: Event, op: str, target: Target | None, last: Event, **fields: object
    ) -> None:
        first = self.move_start if self.move_start is not None else anchor.seq
        self.move_start = None
        action = Action(
            op=op,  # type: ignore[arg-type]
            ref=target.ref if target else None,
            target=target,
            ts=anchor.ts,
            first_seq=min(first, anchor.seq),
            last_seq=last.seq,
            masked=bool(target and target.masked),
            **fields,  # type: ignore[arg-type]
        )
        self.steps.append((action, anchor))

    def handle(self, event: Event) -> None:
        if isinstance(event, (Wheel, Scroll)):
            self.end_typing()
            self.scroll(event)
            return
        if not isinstance(event, PointerMove):
            self.end_scroll()
        if isinstance(event, (PointerDown, KeyDown)):
            self.awaiting_click = False
        if isinstance(event, (TaskStart, TaskEnd, Navigation)):
            # An episode or page boundary: nothing typed or pressed carries across it.
            self.end_typing()
            self.end_press()
        elif isinstance(event, PointerMove):
            if self.move_start is None:
                self.move_start = event.seq
        elif isinstance(event, PointerDown):
            self.end_typing()
            self.down = event
        elif isinstance(event, PointerUp):
            self.pointer_up(event)
        elif isinstance(event, DblClick):
            self.double_click(event)
        elif isinstance(event, Click):
            self.lone_click(event)
        elif isinstance(event, KeyDown):
            self.key(event)
        elif isinstance(event, KeyUp):
            self.held.discard(event.code or event.key)
        elif isinstance(event, (Input, Change)):
            self.value(event)

    # --- pointer ------------------------------------------------------------

    def end_press(self) -> None:
        """A pointer still down when the episode ends was the press that finished the
        task (the page reacted to mousedown and the recording stopped): a click."""
        down, self.down = self.down, None
        if down is not None:
            self.emit(down, "click", down.target, down, x=down.x, y=down.y, key=clicked_holding(down))

    def pointer_up(self, up: PointerUp) -> None:
        down, self.down = self.down, None
        if down is None:
            return
        moved = ((up.x - down.x) ** 2 + (up.y - down.y) ** 2) ** 0.5
        if moved > DRAG_THRESHOLD_PX:
            self.emit(down, "drag", down.target, up, x=down.x, y=down.y, end_x=up.x, end_y=up.y)
        else:
            self.emit(down, "click", down.target or up.target, up, x=down.x, y=down.y, key=clicked_holding(down))
        self.awaiting_click = True

    def lone_click(self, click: Click) -> None:
        """A click event is the tail of a down/up just reduced, or the browser's answer to an
        Enter or Space just pressed (a person who sends a form with Enter made one action,
        not a press and a click), unless neither led to it (a click synthesised by the page
        or by assistive technology): then it is the action."""
        last = self.steps[-1][0] if self.steps else None
        if last is not None and (self.awaiting_click or _answers(last, click)):
            # The click that ends a down/up, one the page dispatched in its wake (a
            # <label> clicks its input at the same point), or a key's: part of the action.
            self.awaiting_click = False
            self.steps[-1] = (last.model_copy(update={"last_seq": click.seq}), self.steps[-1][1])
            return
        self.end_typing()
        self.emit(click, "click", click.target, click, x=click.x, y=click.y, key=clicked_holding(click))

    def double_click(self, event: DblClick) -> None:
        clicks = []
        while (
            self.steps
            and self.steps[-1][0].op == "click"
            and _close(self.steps[-1][0], event)
            and len(clicks) < 2
        ):
            clicks.insert(0, self.steps.pop())
        if clicks:
            action, anchor = clicks[0]
            merged = action.model_copy(update={"op": "dblclick", "last_seq": event.seq})
            self.steps.append((merged, anchor))
        else:
            self.emit(event, "dblclick", event.target, event, x=event.x, y=event.y)

    # --- keys and values ----------------------------------------------------

    def key(self, event: KeyDown) -> None:
        physical = event.code or event.key  # Shift may change the key between down and up
        repeat = physical in self.held  # held down: the keyboard repeats it
        self.held.add(physical)
        if self.field is not None and not same_element(self.field.target, event.target):
            self.end_typing()
        if self.field is None and is_editable(event.target):
            initial = self.current_value(event)
            self.field = _Field(event.target, event, initial, initial, len(initial))  # type: ignore[arg-type]
        if event.key in SILENT_KEYS:
            return
        if self.field is not None and self.field.key(event):
            return
        self.end_typing()
        combination = key_combination(event)
        last = self.steps[-1][0] if self.steps else None
        if repeat and last is not None and last.op == "press" and last.key == combination:
            self.steps[-1] = (last.model_copy(update={"last_seq": event.seq}), self.steps[-1][1])
            return
        self.emit(event, "press", event.target, event, key=combination)

    def current_value(self, event: KeyDown | Input | Change) -> str:
        """The field's text when typing into it began, from the snapshot paired with the key."""
        sha = self.observed.snapshot(event)
        snapshot = self.snapshots.get(sha) if sha else None
        if snapshot is None or event.target is None or event.target.ref is None:
            return ""
        element = snapshot.by_ref().get(event.target.ref)
        return (element.value or "") if element is not None and not element.masked else ""

    def value(self, event: Input | Change) -> None:
        target = event.target
        if (
            target is not None
            and target.tag == "select"
            and isinstance(event, Change)
            and event.value is not None
        ):
            self.end_typing()
            while (
                self.steps
                and self.steps[-1][0].op == "click"
                and same_element(self.steps[-1][0].target, target)
            ):
                self.steps.pop()
            self.emit(event, "select", target, event, text=event.value)
            return
        if self.field is None and event.value is not None and self.typed_without_keys(target):
            initial = self.current_value(event)
            self.field = _Field(target, event, initial, initial, len(initial))  # type: ignore[arg-type]
        if (
            self.field is not None
            and same_element(self.field.target, target)
            and event.value is not None
        ):
            # The recorded value is the truth (it sees pastes and auto-completion);
            # keys after it go on from there.
            self.field.text, self.field.caret, self.field.anchor = (
                event.value,
                len(event.value),
                None,
            )
            self.field.last = event

    def typed_without_keys(self, target: Target | None) -> bool:
        """A field's text changed with no keys, right after the person clicked into it:
        a paste from the context menu, autofill, dictation. (A change after a click
        elsewhere is the page's doing, e.g. a date picker filling its field.)"""
        if not is_editable(target) or not self.steps:
            return False
        last = self.steps[-1][0]
        return last.op in ("click", "dblclick") and same_element(last.target, target)

    def end_typing(self) -> None:
        field_, self.field = self.field, None
        if field_ is None or field_.text == field_.initial:
            return
        text = keyed_text(field_.target.input_type, field_.text)
        self.emit(field_.first, "type", field_.target, field_.last or field_.first, text=text)

    # --- scrolling ------------------------------------------------------------

    def scroll(self, event: Wheel | Scroll) -> None:
        if self.scroll_run and not _same_scroll_target(self.scroll_run[0], event):
            self.end_scroll()
        self.scroll_run.append(event)

    def end_scroll(self) -> None:
        run, self.scroll_run = self.scroll_run, []
        if not run:
            return
        wheels = [e for e in run if isinstance(e, Wheel)]
        if wheels:
            dx, dy = sum(w.dx for w in wheels), sum(w.dy for w in wheels)
        else:
            key = _scroll_key(run[0].target)
            x0, y0 = self.scroll_positions.get(key, (0.0, 0.0))
            last = run[-1]
            assert isinstance(last, Scroll)
            dx, dy = last.scroll_x - x0, last.scroll_y - y0
        for e in run:
            if isinstance(e, Scroll):
                self.scroll_positions[_scroll_key(e.target)] = (e.scroll_x, e.scroll_y)
        if dx or dy:
            anchor = run[0]
            x = anchor.x if isinstance(anchor, Wheel) else None
            y = anchor.y if isinstance(anchor, Wheel) else None
            self.emit(anchor, "scroll", anchor.target, run[-1], dx=dx, dy=dy, x=x, y=y)


def _answers(last: Action, click: Click) -> bool:
    """Whether a click without its own down/up is the page's or the browser's answer to
    the action just taken: a click soon after at the same point, or after an activating key."""
    if last.ts is None or click.ts - last.ts > SYNTHETIC_CLICK_MS:
        return False
    if last.op in ("click", "dblclick"):
        return _close(last, click)
    return last.op == "press" and last.key in ACTIVATING_KEYS


def _close(action: Action, event: Click | DblClick) -> bool:
    if action.x is None or action.y is None:
        return False
    return (
        abs(action.x - event.x) <= DRAG_THRESHOLD_PX
        and abs(action.y - event.y) <= DRAG_THRESHOLD_PX
    )


def _scroll_key(target: Target | None) -> str:
    if target is None:
        return "page"
    return f"{target.ref}|{target.selector}|{target.id}"


def _same_scroll_target(a: Wheel | Scroll, b: Wheel | Scroll) -> bool:
    # A wheel lands on the element under the pointer, the scroll on what scrolled:
    # consecutive wheel and scroll events are one gesture whatever their targets.
    if type(a) is not type(b):
        return True
    return _scroll_key(a.target) == _scroll_key(b.target)


def reduce_events(
    events: Iterable[Event], snapshots: Mapping[str, DomSnapshot] | None = None
) -> list[Step]:
    """A session's (or an episode's) events, in ``seq`` order, as actions paired with
    observations. ``snapshots`` (blob name → ``DomSnapshot``) lets typing start from the
    field's current text; without it fields are taken to start empty."""
    ordered = sorted(events, key=lambda e: e.seq)
    return _Reducer(ordered, snapshots or {}).run()
