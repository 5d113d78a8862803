"""Carry out an ``Action`` on a live page through real input, as a person would.

Only ``page.mouse`` and ``page.keyboard`` are used, at the target element's
on-screen position: no ``element.click()``, no ``fill()``, no script that sets
a value. The page therefore sees the same trusted pointer and key events a
person's hands produce, and a page that ignores synthetic events works too.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from demoforge.dataset.actions import CLICKS, Action
from demoforge.dataset.datetime_fields import SEGMENTED_INPUT_TYPES, keys_for
from demoforge.dataset.reduce import is_editable
from demoforge.events import DomSnapshot, Element

#: How long the page is given to react after an action (animations, handlers).
SETTLE_MS = 40
#: How long after typing: a person pauses for the page's answer to the keys. Suggestions
#: come after a debounce (jQuery UI's autocomplete waits 300 ms after the last key), and
#: the agent's next look, which waits only while the page is moving, would come first.
TYPED_PAUSE_MS = 400
#: Where a field's text (a date or time field's first segment) begins, from its left edge (CSS px).
FIRST_SEGMENT_PX = 8


def has_focus(element: Element, snap: DomSnapshot) -> bool:
    return element.focused or snap.focused == element.ref


def takes_a_number(element: Element) -> bool:
    """A field the browser lets hold only a number (what it shows a person as a spin box)."""
    return element.tag.lower() == "input" and element.input_type == "number"


def text_start(element: Element) -> tuple[float, float]:
    """Where a field's text (a date or time field's first segment) begins."""
    return element.box.x + min(FIRST_SEGMENT_PX, element.box.width / 4), element.box.middle()[1]


def aim(element: Element) -> tuple[float, float]:
    """Where a person points to use ``element``: its middle, but a number field at its text.
    The arrows that step a number field's value fill the right of a narrow one (guess-number's
    is 30 px wide), so a click in its middle would change the number it was meant to focus."""
    return text_start(element) if takes_a_number(element) else element.box.middle()


def point(action: Action, snap: DomSnapshot) -> tuple[float, float]:
    """Where on the page ``action`` acts: its own point, else where its target is aimed at."""
    if action.x is not None and action.y is not None:
        return action.x, action.y
    element = snap.by_ref().get(action.ref) if action.ref is not None else None
    if element is None:
        raise ValueError(f"{action.op} action has neither a point nor a known target")
    return aim(element)


def select_of(element: Element, snap: DomSnapshot, role: str) -> Element | None:
    """The ``<select>`` that ``element`` is an option of, if it is one and has ``role``:
    ``combobox`` for a drop-down, ``listbox`` for a list box (``roleOf`` in ``recorder.js``)."""
    select = snap.by_ref().get(element.parent) if element.tag.lower() == "option" and element.parent else None
    return select if select is not None and select.tag.lower() == "select" and select.role == role else None


def drop_down(element: Element, snap: DomSnapshot) -> Element | None:
    """The drop-down ``<select>`` whose list ``element`` is a row of, if it is one.

    The browser draws that list outside the page, so no pointer event from
    ``page.mouse`` reaches its rows (the snapshot places them where they are
    drawn: see ``dropDownRow`` in ``recorder.js``).
    """
    return select_of(element, snap, "combobox")


def choose(page: Page, select: Element | None, snap: DomSnapshot, text: str) -> None:
    """Pick the option of ``select`` (else of the focused one) whose text is ``text`` from
    the keyboard, as a person can: a focused ``<select>`` picks the option whose text is
    typed (type-ahead)."""
    if select is not None and not has_focus(select, snap):
        page.mouse.click(*select.box.middle())
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def perform(page: Page, action: Action, snap: DomSnapshot) -> None:
    """Do ``action`` on ``page``; ``snap`` is the observation the action was chosen on."""
    mouse, keyboard = page.mouse, page.keyboard
    target = snap.by_ref().get(action.ref) if action.ref is not None else None
    select = drop_down(target, snap) if target is not None and action.op == "click" else None
    if select is not None:
        # A click on a row of a drop-down's list: the pointer cannot reach it, the keys can.
        choose(page, select, snap, target.text or "")
    elif action.op in CLICKS:
        held = action.key.split("+") if action.key else []
        for key in held:  # a Control-click: the key goes down before the button, up after it
            keyboard.down(key)
        (mouse.click if action.op == "click" else mouse.dblclick)(*point(action, snap))
        for key in reversed(held):
            keyboard.up(key)
    elif action.op == "select":
        choose(page, target, snap, action.text or "")
    elif action.op == "type":
        segmented = target is not None and target.input_type in SEGMENTED_INPUT_TYPES
        if segmented:
            # Keys fill a date or time field from the segment they start in: begin at the first.
            mouse.click(*text_start(target))
        elif target is not None and not has_focus(target, snap):
            mouse.click(*point(action, snap))
        # ``text`` is the field's whole text: replace what is there.
        if not segmented:
            keyboard.press("ControlOrMeta+a")
        if action.text:
            keyboard.type(keys_for(target.input_type if target else None, action.text))
        else:
            keyboard.press("Backspace")
    elif action.op == "press":
        if target is not None and is_editable(action.target) and not has_focus(target, snap):
            # Keys go to the focused field (ArrowUp steps a number only there): into it first.
            mouse.click(*aim(target))
        try:
            keyboard.press(action.key or "Enter")
        except PlaywrightError as exc:
            # A key name the browser has no key for ("Unidentified" in old recordings):
            # nothing is pressed, as nothing would be on a real keyboard.
            if "Unknown key" not in str(exc):
                raise
    elif action.op == "scroll":
        mouse.move(*point(action, snap))
        mouse.wheel(action.dx or 0, action.dy or 0)
    elif action.op == "drag":
        mouse.move(*point(action, snap))
        mouse.down()
        mouse.move(action.end_x or 0, action.end_y or 0, steps=8)
        mouse.up()
    else:  # pragma: no cover - Op is a closed Literal
        raise ValueError(f"unknown op {action.op!r}")
    page.wait_for_timeout(TYPED_PAUSE_MS if action.op == "type" else SETTLE_MS)
