"""The agent loop: observe the live page, decide with the policy, act through real input.

The observation is ``demoforge.capture.snapshot.take`` — the recorder's own
snapshot code — so the agent sees pages exactly as the demonstrations it was
trained on were recorded. What it is given is what a person is given: the
instruction text and the page. It never reads a page's scripts or state.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from playwright.sync_api import Page

from demoforge.agent.actuate import aim, drop_down, perform, point, select_of, takes_a_number
from demoforge.capture import snapshot as snapshots
from demoforge.dataset.actions import CLICKS, OPS, TEXTS, Action
from demoforge.dataset.miniwob_dom import target_of
from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.checkpoint import load_policy
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import (
    elsewhere_pieces,
    featurize,
    field_name_pieces,
    gap,
    first_names,
    norm,
    number_gap,
    owners,
    page_classes,
    page_rows,
    page_view,
    picked_pieces,
    picked_words,
    quoted,
    quoted_as_written,
    tree_paths,
    visible_elements,
    waiting_pieces,
)
from demoforge.learn.model import collate
from demoforge.learn.quantities import Seen, amounts, asked_extreme, compared_kind

#: Actions that press the pointer on their target: a drag without a drop target is a click.
AT_A_POINT = (*CLICKS, "drag")
#: Scrolling is "one wheel notch down": the policy chooses where, not how far.
SCROLL_DY = 100.0


class Agent:
    """A trained policy that turns (instruction, page, history) into the next ``Action``."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        # One thread: a small model on a shared CPU is faster without thread hand-offs.
        torch.set_num_threads(threads)
        self.policy = load_policy(model_dir)
        self.encoder = text_encoder()

    def decide(
        self,
        instruction: str,
        snap: DomSnapshot,
        history: list[Action],
        ruled_out: frozenset[tuple[int, str]] = frozenset(),
        picked: frozenset[str] = frozenset(),
        seen: Seen | None = None,
    ) -> Action | None:
        """The next action, or None when the page offers nothing to act on.

        ``ruled_out`` holds (element ref, op) pairs already tried on this very
        page state; the policy's next choice is taken instead, as a person tries
        something else when a click does nothing. ``picked`` holds the words of
        what was clicked before (``features.picked_words``), which a typed value
        leaves out where it can, as it leaves out the quoted values whose turn has not
        come after what ``history`` typed (``features.waiting_pieces``), and, in one of
        several fields, another field's value (``features.elsewhere_pieces``).
        ``seen`` holds the amounts a look down the page showed beyond those in sight
        (``look_down_amounts``).
        """
        feats = featurize(instruction, snap, history, self.encoder, seen)
        if not feats.refs:
            return None
        rows = {ref: i for i, ref in enumerate(feats.refs)}
        exclude = [rows[ref] * len(OPS) + OPS.index(op) for ref, op in ruled_out if ref in rows]
        by_ref = snap.by_ref()
        fields = {i for i, ref in enumerate(feats.refs) if takes_a_number(by_ref[ref])}
        digits = torch.tensor([instruction[a:b].isdigit() for a, b in feats.offsets], dtype=torch.bool)
        names = field_name_pieces(instruction, feats.offsets)
        d = self.policy.decide(
            collate([feats], self.encoder),
            exclude=[exclude],
            numbers=[(fields, digits)],
            field_names=[names],
            picked=[picked_pieces(instruction, feats.offsets, picked)],
            waiting=[waiting_pieces(instruction, feats.offsets, [a.text or "" for a in history if a.op == "type"])],
            elsewhere=[elsewhere_pieces([by_ref[ref] for ref in feats.refs], instruction, feats.offsets)],
        )[0]
        if d["target"] is None:
            return None
        element = by_ref[feats.refs[d["target"]]]
        x, y = aim(element)
        op = d["op"]
        common = {"op": op, "ref": element.ref, "target": target_of(element)}
        if op in TEXTS:
            s, e = d["span"]
            text = instruction[feats.offsets[s][0] : feats.offsets[e][1]] if feats.offsets else ""
            return Action(**common, x=x, y=y, text=text)
        if op == "press":
            return Action(**common, key=d["key"] or "Enter")
        if op == "scroll":
            return Action(**common, x=x, y=y, dx=0.0, dy=SCROLL_DY)
        if op == "drag":  # the policy has no drop target: a drag degrades to a press-and-release
            return Action(**common, x=x, y=y, end_x=x, end_y=y)
        return Action(**common, x=x, y=y, key=d["key"] or None)


@dataclass
class Run:
    """What the agent did on one task and why it stopped."""

    actions: list[Action] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    stopped: str = "step limit"


#: How often, and at most how long, the agent looks again while the page is still moving.
SETTLE_POLL_MS = 50
SETTLE_LIMIT_MS = 1000


def observe_still(
    page: Page, observe: Callable[[Page], DomSnapshot], poll_ms: int = SETTLE_POLL_MS, limit_ms: int = SETTLE_LIMIT_MS
) -> tuple[DomSnapshot, float]:
    """The page once it has stopped changing (two looks ``poll_ms`` apart agree),
    and how long that last look took in ms.

    A person waits for a menu to finish opening before clicking in it; an
    agent that acts on a snapshot taken mid-animation points at where things
    were (a pie menu's labels start at its centre and spread out). Pages that
    never stop changing (a clock) are waited on for ``limit_ms`` at most. The
    waiting is not part of the look's time: it is the page's, not the agent's.
    """

    def look() -> tuple[DomSnapshot, float]:
        t0 = time.perf_counter()
        return observe(page), (time.perf_counter() - t0) * 1000

    snap, ms = look()
    for _ in range(max(limit_ms // poll_ms, 0)):
        page.wait_for_timeout(poll_ms)
        again, ms = look()
        if again == snap:
            break
        snap = again
    return snap, ms


#: How long the pointer rests on a target that answers being pointed at before the agent
#: looks again. Menus open a submenu under a resting pointer after a delay, jQuery UI's
#: after 300 ms; a person's hand dwells about that long before clicking anyway.
DWELL_MS = 400


def opens_under_pointer(
    page: Page, action: Action, snap: DomSnapshot, observe: Callable[[Page], DomSnapshot]
) -> DomSnapshot | None:
    """Point at ``action``'s target; the page as pointing left it when that showed something
    the page did not show before (a submenu), which the agent should look at before
    clicking; else None.

    A person moves the pointer to what they mean to click and sees what the page does
    on the way; the recordings hold only the click that followed, on the opened menu.
    Pages that do nothing on pointing (no script marks the element) cost no waiting.
    What is shown counts, not the order of the page's nodes: a pie menu (wheelnav)
    moves the pointed slice's nodes to the end of its drawing, to paint it on top,
    and shows nothing new; taken for an opened menu, it had the agent decide again
    on the reordered page, and click another slice.
    """
    page.mouse.move(*point(action, snap))  # where the click would land
    if observe(page) == snap:
        return None
    page.wait_for_timeout(DWELL_MS)
    after, _ = observe_still(page, observe)
    return after if Counter(page_rows(after)) - Counter(page_rows(snap)) else None


def opened(before: DomSnapshot, after: DomSnapshot) -> frozenset[int]:
    """The elements in sight on ``after`` that were not on ``before``: what pointing opened.
    A class that pointing puts on an element changes its row and opens nothing."""
    return frozenset(e.ref for e in visible_elements(after)) - {e.ref for e in visible_elements(before)}


def item_of(snap: DomSnapshot, ref: int) -> frozenset[int]:
    """The elements in sight that make one item with ``ref``: those inside the widest
    element around it that shows nothing else (a menu item's text and its caret icon;
    not the list of items around them).

    Pointing at an item's caret opens its submenu as pointing at its text does; a
    person then takes neither for the thing to click.
    """
    by = snap.by_ref()
    if ref not in by:
        return frozenset({ref})

    def line(e: Element) -> list[int]:  # e, then its ancestors
        return [e.ref, *(a.ref for a in DomSnapshot.ancestors(e, by))]

    lines = {e.ref: line(e) for e in visible_elements(snap)}
    chain = line(by[ref])
    item = {ref}
    for a in chain:
        inside = {v for v, up in lines.items() if a in up}
        if any(v not in chain and ref not in lines[v] for v in inside):
            break  # a holds something beside the item: a list of items
        item |= inside
    return frozenset(item)


#: The role a page gives the items of its menus (WAI-ARIA), which may open a submenu when pointed at.
MENU_ITEM = "menuitem"


#: A class name, as an instruction writes a picture it draws ("the item with the ui-icon
#: ui-icon-seek-end icon": ``MiniWoBEnv.instruction``): lower-case words joined by hyphens.
CLASS_NAME = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])")


def worn(element: Element) -> set[str]:
    """The class names an element wears, as the instruction would write them."""
    return set((element.classes or "").split())


def out_of_sight(instruction: str, elements: list[Element]) -> set[str]:
    """What the instruction names that nothing in sight shows: the values it quotes that
    no element shows as its whole text or value, and the class names it writes (the
    pictures it draws) that no element wears.

    A hyphenated word that is no class ("one-way") counts as out of sight too: that
    costs one look through the menus, and only on a page with menu items.
    """
    shown = {norm(e.text) for e in elements if e.text} | {norm(e.value) for e in elements if e.value}
    on_show = set().union(*map(worn, elements))
    return (set(quoted(instruction)) - shown) | (set(CLASS_NAME.findall(instruction)) - on_show)


def look_in_menus(
    page: Page, snap: DomSnapshot, instruction: str, looked: set[int], observe: Callable[[Page], DomSnapshot]
) -> tuple[int, DomSnapshot] | None:
    """Point at the menu items in sight not pointed at before (``looked``), in reading
    order, while the instruction names something nothing in sight shows (``out_of_sight``),
    until one opens something that shows it; the last item pointed at and the page then,
    or None when there was nothing to look in.

    "Find and click on the item labelled Stop" over a menu whose Stop is in the
    Playback submenu: a person looks for it, resting the pointer on the items in turn
    as submenus open under it. The recordings hold only the click that followed, so
    the policy never points at a parent the instruction does not name; it clicked an
    item in sight instead, in 30 of 50 episodes of click-menu-2. Items are what the
    page marks as such (ARIA role ``menuitem``, as jQuery UI's menus and menu bars
    do), each looked in once per run. An item asked for by its icon ("the item with the
    [seek-end icon] icon") is looked for by the icon's classes, as the policy matches it
    (``features.match_text``); what is neither quoted nor drawn is not looked for.
    """
    in_sight = visible_elements(snap)
    missing = out_of_sight(instruction, in_sight)
    items = [e for e in in_sight if e.role == MENU_ITEM and e.ref not in looked] if missing else []
    found = None
    for item in items:
        looked.add(item.ref)
        page.mouse.move(*aim(item))
        page.wait_for_timeout(DWELL_MS)
        after, _ = observe_still(page, observe)
        found = item.ref, after
        if missing - out_of_sight(instruction, visible_elements(after)):
            break
    return found


#: At most this many turns of the wheel look down a list of amounts.
MAX_LOOKS_DOWN = 10


def amounts_in_sight(snap: DomSnapshot) -> dict[str, dict[int, float]]:
    """Per kind of amount, the elements in sight that show one (by ref), with the amount."""
    elements = visible_elements(snap)
    return {kind: {elements[i].ref: v for i, v in shown} for kind, shown in amounts(elements).items()}


class AskedAmounts(NamedTuple):
    """What the instruction's superlative asks of the amounts in sight."""

    end: str  # "min" or "max"
    kind: str  # the kind of amount it compares
    shown: dict[int, float]  # the elements in sight that show one (by ref), with the amount


def asked_amounts(snap: DomSnapshot, instruction: str) -> AskedAmounts | None:
    """What the instruction's superlative asks of the amounts in sight; None without a
    superlative or an amount of the kind it compares."""
    asked = asked_extreme(instruction)
    if asked is None:
        return None
    shown = amounts_in_sight(snap)
    compared = compared_kind(asked[1], shown)
    return AskedAmounts(asked[0], compared, shown[compared]) if compared in shown else None


def shift(before: DomSnapshot, after: DomSnapshot) -> float | None:
    """How far the page's content moved up from ``before`` to ``after``: the commonest
    shift of the elements both show that moved (a fixed header does not); 0 when none
    moved, None when they share no element."""
    old = before.by_ref()
    moves = [old[e.ref].box.y - e.box.y for e in after.elements if e.ref in old]
    if not moves:
        return None
    moved = [round(m, 1) for m in moves if abs(m) >= 1]
    return Counter(moved).most_common(1)[0][0] if moved else 0.0


def look_down_amounts(
    page: Page, snap: DomSnapshot, asked: AskedAmounts, observe: Callable[[Page], DomSnapshot]
) -> tuple[dict[str, set[float]], DomSnapshot]:
    """Every amount a look down the list of amounts in sight shows, by kind, and the page
    scrolled back to where the one the instruction's superlative picks showed.

    Asked for "the cheapest flight", a person runs an eye down every price, scrolling
    the list on, and goes back to the lowest. The policy compares only the amounts in
    sight (``quantities.superlative``), and a list of flights shows one or two at a
    time: it booked the first one shown (book-flight-nodelay: 16 of 50). So the agent
    turns the wheel over the list a notch at a time until nothing moves, noting each
    amount and where it showed, turns it back to where the extreme one showed nearest
    the middle of the view (whole, with what follows it, its flight's button, in
    sight: at the top it was cut by the list's header), and tells the policy what it saw.
    """
    seen: dict[str, set[float]] = {}
    at: dict[tuple[str, float], list[tuple[float, float]]] = {}  # (kind, amount) -> (how far down, y in view)

    def note(snap: DomSnapshot, down: float) -> None:
        by_ref = snap.by_ref()
        for k, values in amounts_in_sight(snap).items():
            for ref, v in values.items():
                seen.setdefault(k, set()).add(v)
                at.setdefault((k, v), []).append((down, by_ref[ref].box.middle()[1]))

    down = 0.0
    note(snap, down)
    anchor = snap.by_ref()[next(iter(asked.shown))].box.middle()
    page.mouse.move(*anchor)  # the wheel turns what is under the pointer
    for _ in range(MAX_LOOKS_DOWN):
        page.mouse.wheel(0, SCROLL_DY)
        after, _ = observe_still(page, observe)
        moved = shift(snap, after)
        if moved == 0:
            break
        snap, down = after, down + (SCROLL_DY if moved is None else moved)
        note(snap, down)
    best = (min if asked.end == "min" else max)(seen[asked.kind])
    middle = snap.viewport.middle()[1] if snap.viewport is not None else anchor[1]
    best_down = min(at[(asked.kind, best)], key=lambda sighting: abs(sighting[1] - middle))[0]
    if back := down - best_down:
        page.mouse.wheel(0, -back)
        snap, _ = observe_still(page, observe)
    return seen, snap


#: Actions that act at a point on their target: the pointer can only reach it in sight.
AT_TARGET_OPS = ("click", "dblclick", "type", "select")
#: At most this many turns of the wheel bring a target into sight.
MAX_WHEELS = 3


def hiding(snap: DomSnapshot, element: Element, x: float, y: float) -> Box | None:
    """The box that may cut the point (x, y) of ``element`` off from sight: the nearest
    ancestor whose box does not hold the point (a list box scrolled to other
    options), else the viewport when the point lies outside it; None when neither.

    Snapshots give every element's box whether or not it is scrolled out of view,
    so an option below a list box's fold has a box that lies over whatever is
    drawn below the list: a click there lands on that (a Submit button). A
    submenu beside its parent item lies outside the parent's box too, in sight:
    only the page can tell the two apart (``snapshot.where_drawn``).
    """
    for ancestor in DomSnapshot.ancestors(element, snap.by_ref()):
        box = ancestor.box
        if box.width > 0 and box.height > 0 and not box.contains(x, y):
            return box
    if snap.viewport is None or snap.viewport.contains(x, y):
        return None
    return snap.viewport


def into_view(
    page: Page, action: Action, snap: DomSnapshot, observe: Callable[[Page], DomSnapshot]
) -> tuple[Action, DomSnapshot]:
    """``action`` moved to where its target is once in sight, and the page as it is then.

    A person who means to click an option below a list's fold turns the wheel over
    the list until the option shows, then clicks it where it now is. So does the
    agent: the wheel turns over the box that hides the target, by the distance from
    the box's middle to the target, and the agent looks again. It stops when the
    page draws the target at its point, or shows a part of it elsewhere (a row half
    cut by its list's edge is clicked on the half in sight: ``snapshot.where_drawn``),
    when it no longer moves (nothing there scrolls), or when it is gone. An action
    whose target is in sight, or is a row of a drop-down's list (drawn outside the
    page, chosen by keys), is returned as it is.
    """
    element = snap.by_ref().get(action.ref) if action.ref is not None else None
    if element is None or action.op not in AT_TARGET_OPS or drop_down(element, snap) is not None:
        return action, snap
    x, y = point(action, snap)
    for _ in range(MAX_WHEELS):
        seen = snapshots.where_drawn(page, element, x, y)
        if seen is not None:
            x, y = seen
            break
        box = hiding(snap, element, x, y)
        if box is None:
            break
        middle = box.middle()
        page.mouse.move(*middle)
        page.mouse.wheel(x - middle[0], y - middle[1])
        snap, _ = observe_still(page, observe)
        moved = snap.by_ref().get(element.ref)
        if moved is None or moved.box == element.box:
            break
        x, y = x + moved.box.x - element.box.x, y + moved.box.y - element.box.y
        element = moved
    return action.model_copy(update={"x": x, "y": y}), snap


def adding_to_selection(action: Action, snap: DomSnapshot, instruction: str) -> Action:
    """``action``, holding Control where it clicks an option of a list box whose selected
    options are all ones the instruction names.

    A plain click on an option selects it alone, dropping what was chosen before; a
    person who picked one of the names asked for and goes on to the next holds Control
    to keep it. In the recordings, 10 of the 12 clicks on a named option while only
    named options were selected held a key that adds to the selection (7 Control, 3
    Shift), against 1 of 6 while an unnamed option was selected: a wrong choice is
    replaced, not kept. The policy, with 7 Control-clicks to learn from, seldom did.
    """
    option = snap.by_ref().get(action.ref) if action.op == "click" and not action.key and action.ref is not None else None
    box = select_of(option, snap, "listbox") if option is not None and not option.checked else None
    if box is None:
        return action
    chosen = [e for e in snap.elements if e.parent == box.ref and e.tag == "option" and e.checked]
    if chosen and all(name is not None for name in first_names(chosen, instruction)):
        return action.model_copy(update={"key": "Control"})
    return action


#: A number and the word after it: "on 2 posts" (not a date's, a time's or a decimal's digits).
_NUMBER_AND_WORD = re.compile(r"(?<![\w./:-])(\d+) ([a-z]{3,})\b")
#: Words that follow a number without being what it counts: "Select 1 with the slider".
NOT_COUNTED = frozenset({"and", "but", "for", "from", "into", "onto", "than", "that", "the", "then", "with"})


def asked_count(instruction: str) -> int | None:
    """How many things the instruction asks to act on, where it counts them once: a
    number followed by a noun in its number ("on 1 post", "on 3 posts"); None where
    it counts nothing or more than once. The noun is what follows the number, in the
    plural unless the number is 1, and no joining word (``NOT_COUNTED``): "Select 9
    with the spinner" counts nothing, nor does "10/21/2016 as the date"."""
    counts = [int(n) for n, word in _NUMBER_AND_WORD.findall(instruction.lower())
              if word not in NOT_COUNTED and word.endswith("s") == (int(n) != 1)]
    return counts[0] if len(counts) == 1 and counts[0] > 0 else None


Kind = tuple[str, str, frozenset[str]]


def kind(element: Element) -> Kind:
    """Which of a row of like controls an element is, as a person tells them apart: its
    tag, its words and its classes (a retweet button, whose icon says what it is)."""
    return element.tag.lower(), norm(element.text), frozenset(page_classes(element.classes).split())


def of_kind(element: Element, counted: Kind) -> bool:
    """Whether ``element`` is one of ``counted``'s kind, in whatever state: a clicked
    toggle wears a class more ("retweet active") and is still a retweet button."""
    tag, text, classes = kind(element)
    return (tag, text) == counted[:2] and counted[2] <= classes


def of_counted(elements: list[Element], counted_out: list[Kind]) -> set[int]:
    """The elements in sight that are done with once the instruction's count is reached:
    those of a counted kind, and the rest of each thing that one of them belongs to
    (``features.owners``): the post around a retweet button, its reply button too.

    "On 2 posts" counts posts: once two have had their retweet clicked, no post is acted
    on again. The policy, its retweet buttons ruled out, took the reply button beside
    them, which the task takes for a wrong act. In the recordings, none of the 32 clicks
    made after the count was reached landed in a post; all went to Submit.
    """
    paths = tree_paths(elements)
    done_with: set[int] = set()
    for counted in counted_out:
        alike = [of_kind(e, counted) for e in elements]
        done_with |= {e.ref for e, a in zip(elements, alike) if a}
        done_with |= {e.ref for e, owner in zip(elements, owners(paths, alike, True)) if owner is not None}
    return done_with


def as_quoted(said: str | None, value: str) -> bool:
    """Whether an element's text ``said`` says the quoted ``value`` in other writing: the
    same words, in another case or with other punctuation ("Proin." for "proin")."""
    said = (said or "").strip()
    return said != value and bool(norm(value)) and norm(said) == norm(value)


def misquoted(elements: list[Element], instruction: str) -> set[int]:
    """The elements in sight whose text says a value the instruction quotes in other
    writing (``as_quoted``), where nothing of their kind in sight writes it as quoted.

    A quoted value names an item as written: a link "proin." is not the link
    "proin", nor is "At" the link "at". The policy reads words lower-cased and
    without their punctuation, so to it they are one; it clicked "proin." in the
    first tab for the link "proin" of another (click-tab-2). Ruled out, such an element
    leaves the policy its next choice, as a person who sees the near miss goes on
    looking. Where an element of the same kind in sight is written as quoted, the
    policy's choice of the near miss is moved to it instead (``as_written``).
    """
    values = quoted_as_written(instruction)
    return {
        e.ref for e in elements for value in values
        if as_quoted(e.text, value) and written_as(elements, e.tag, value) is None
    }


def written_as(elements: list[Element], tag: str, value: str) -> Element | None:
    """The element of kind ``tag`` among ``elements`` whose text is ``value`` as written."""
    return next((e for e in elements if e.tag == tag and (e.text or "").strip() == value), None)


def as_written(action: Action, snap: DomSnapshot, instruction: str) -> Action:
    """``action`` moved to the element of the same kind in sight whose text is a value
    the instruction quotes, written as quoted, where the policy chose one that says it
    in other writing (``as_quoted``). (Of the same kind: the instruction's own display
    may show the value too, in a bold ``<span>``.)

    The policy reads words lower-cased (its encoder is uncased, and so is its word
    matching), so "x" and "X" are one item to it; to a person they are two. A pie
    menu of random letters and digits (click-pie) holds both now and then, and the
    policy clicked "X" for "click on the item labeled x".
    """
    target = snap.by_ref().get(action.ref) if action.ref is not None else None
    if target is None:
        return action
    for value in quoted_as_written(instruction):
        if as_quoted(target.text, value) and (twin := written_as(visible_elements(snap), target.tag, value)):
            return moved_to(action, twin)
    return action


def into_quoted(action: Action, snap: DomSnapshot, instruction: str) -> Action:
    """A click moved to the element in sight whose text is a value the instruction quotes,
    written as quoted, where the policy chose an element that holds it: the paragraph
    around the link "odio", not the link.

    A person clicks the quoted thing itself; the paragraph's click lands on whatever
    word lies at its middle. The policy chose the paragraph of click-link's page, whose
    links are the words of one ``<div>``, in two of the 50 benchmark episodes.
    """
    values = set(quoted_as_written(instruction))
    by_ref = snap.by_ref()
    target = by_ref.get(action.ref) if values and action.op in CLICKS and action.ref is not None else None
    if target is None:
        return action
    inner = next((
        e for e in visible_elements(snap)
        if (e.text or "").strip() in values and any(up.ref == target.ref for up in DomSnapshot.ancestors(e, by_ref))
    ), None)
    return action if inner is None else moved_to(action, inner)


def as_drawn(action: Action, snap: DomSnapshot, instruction: str) -> Action:
    """``action`` moved to the element of the same kind in sight that wears every class
    name the instruction writes (the picture it draws: ``CLASS_NAME``), where the policy
    chose one that wears some of them: the same kind of picture, another picture.

    A drawn picture is matched as exactly as a quoted value: the policy reads an icon's
    classes as words, and took the stop icon for "the item with the ui-icon
    ui-icon-seek-start icon" in click-menu-2, both being jQuery UI icons (``ui-icon``).
    """
    drawn = set(CLASS_NAME.findall(instruction))
    target = snap.by_ref().get(action.ref) if drawn and action.ref is not None else None
    if target is None or drawn <= worn(target) or not drawn & worn(target):
        return action
    twin = next((e for e in visible_elements(snap) if e.tag == target.tag and drawn <= worn(e)), None)
    return action if twin is None else moved_to(action, twin)


def types_of(element: Element) -> set[str]:
    """The names of an element's type of control, as an instruction may quote them: its tag
    and its input type ("textarea", "button"; "text", "radio")."""
    return {element.tag.lower(), (element.input_type or "").lower()} - {""}


def of_quoted_type(action: Action, snap: DomSnapshot, instruction: str) -> Action:
    """A click moved to the nearest element in sight of the type of control the
    instruction quotes by name ('Click on a "textarea" widget'), where the policy chose
    one of another type. A quoted word that an element in sight shows as its text is a
    text, not a type (the link "a").

    A person tells a text box from a text area or a button by its look; the policy
    clicked the text area for a "text" widget, and a label for a "button" widget. In the
    recordings, 56 of the 61 clicks made where the instruction quotes a type shown in
    sight were on one of that type, and the other 5 on a label holding one.
    """
    elements = visible_elements(snap)
    asked = set(quoted(instruction)) - {norm(e.text) for e in elements if e.text}
    target = snap.by_ref().get(action.ref) if asked and action.op in CLICKS and action.ref is not None else None
    if target is None or types_of(target) & asked:
        return action
    alike = [e for e in elements if types_of(e) & asked]
    return moved_to(action, min(alike, key=lambda e: gap(target, e))) if alike else action


def moved_to(action: Action, element: Element) -> Action:
    """``action`` done on ``element`` instead, at the point a person aims at."""
    x, y = aim(element)
    return action.model_copy(update={"ref": element.ref, "target": target_of(element), "x": x, "y": y})


def run_agent(
    page: Page,
    agent: Agent,
    instruction: str,
    max_steps: int = 12,
    done: Callable[[], bool] = lambda: False,
    observe: Callable[[Page], DomSnapshot] = snapshots.take,
) -> Run:
    """Act on ``page`` until ``done()``, the step limit, or nothing is left to try.

    An action is not taken twice on the same page state (the page as the policy
    sees it, a moved pointer's hover mark aside): had it changed nothing, doing
    it again would change nothing either; had it led somewhere that came back
    here (a toggle clicked on and off, a list paged on and back), it would only
    go round again. The policy's next choice is taken instead, so the agent
    cannot loop. A state is what the page shows (``page_view``), and an action
    is remembered by its target's place on it, not by the target's ref: a page
    that draws the same content anew has new nodes for it.
    A target that pointing opened something from (a submenu: elements not in
    sight before) is not clicked, nor is the rest of its item (``item_of``),
    while what it opened is in sight: a person goes on into the submenu. The
    policy, trained on clicks made with the menu already open under the hand,
    would take the parent item again, and a jQuery UI menu takes a click on a
    parent item for the choice of that item.
    What the agent clicked is remembered by its words (``features.picked_words``):
    a value it types leaves them out where it can, as a person types the name
    an email goes to, not the one they found it by.
    A target whose click moved a field's number away from the one the
    instruction asks for (``features.number_gap``) is not clicked again, as a
    person who sees a spinner count the wrong way takes the other arrow: the
    policy once clicked the down arrow from 0 to -30 for "Select 5".
    A click that adds a named option to a list box's selection of named options
    holds Control (``adding_to_selection``).
    While the instruction quotes a value or draws an icon that nothing in sight shows, the
    agent first points at the menu items in sight, each once, until one opens what shows it
    (``look_in_menus``); the item is then an opener like any other.
    A target that says a quoted value in other writing (case, punctuation) gives way to
    the element in sight written as quoted (``as_written``), and is not clicked where
    none is (``misquoted``); a click on what holds the element written as quoted goes to
    that element (``into_quoted``); an icon other than the one the instruction draws
    gives way to the one it draws (``as_drawn``), and a control of another type than the
    one the instruction quotes by name ('a "textarea" widget') to one of that type
    (``of_quoted_type``).
    Where the instruction counts the things to act on ("on 2 posts": ``asked_count``),
    once the agent has clicked that many elements of one kind (``kind``) it clicks
    no more of that kind, nor anything else in the things they belong to (``of_counted``),
    as a person who has liked two posts goes on to Submit.
    Where the instruction asks for the extreme one of the amounts in sight ("the cheapest"),
    the agent first looks down their list and back (``look_down_amounts``), and the policy
    compares the amounts in sight with all it saw.
    ``step_ms`` records the decision time per step (observe + decide), the
    figure the agent's speed budget is about; acting waits for the page.
    """
    run = Run()
    picked: set[str] = set()
    tried: dict[str, set[tuple[int, str]]] = {}  # page view -> (element's place, op)
    openers: dict[int, tuple[str, frozenset[int]]] = {}  # ref -> (op, what pointing at it opened)
    looked: set[int] = set()  # menu items pointed at to look for a quoted value
    away: set[int] = set()  # refs whose click moved the asked number away
    clicked: tuple[int, int] | None = None  # the last click's ref, and the number's gap before it
    count = asked_count(instruction)
    clicked_of: dict[Kind, set[int]] = {}  # the elements clicked, by kind, where the instruction counts
    seen: dict[str, set[float]] = {}  # the amounts the last look down a list showed, by kind
    for _ in range(max_steps):
        snap, observe_ms = observe_still(page, observe)
        if done():
            run.stopped = "done"
            return run
        if (looking := look_in_menus(page, snap, instruction, looked, observe)) is not None:
            ref, after = looking
            if shows := opened(snap, after):
                openers.update(dict.fromkeys(item_of(after, ref), ("click", shows)))
            continue  # the next look sees the page as the last pointing left it
        if (asked := asked_amounts(snap, instruction)) and not set(asked.shown.values()) <= seen.get(asked.kind, set()):
            seen, snap = look_down_amounts(page, snap, asked, observe)
        t0 = time.perf_counter()
        done_here = tried.setdefault(page_view(snap), set())
        elements = visible_elements(snap)
        places = [e.ref for e in elements]
        in_sight = set(places)
        gap = number_gap(elements, instruction)
        if clicked is not None and gap is not None and abs(gap) > abs(clicked[1]):
            away.add(clicked[0])
        counted_out = [k for k, refs in clicked_of.items() if count and len(refs) >= count]
        not_to_click = (
            (away & in_sight)
            | misquoted(elements, instruction)
            | of_counted(elements, counted_out)
        )
        ruled_out = frozenset((places[i], op) for i, op in done_here) | {
            (ref, op) for ref, (op, shows) in openers.items() if ref in in_sight and shows & in_sight
        } | {(ref, op) for ref in not_to_click for op in AT_A_POINT}
        action = agent.decide(instruction, snap, run.actions, ruled_out, frozenset(picked), seen)
        run.step_ms.append(observe_ms + (time.perf_counter() - t0) * 1000)
        if action is None:
            run.stopped = "nothing to act on"
            return run
        for rule in (adding_to_selection, as_written, into_quoted, as_drawn, of_quoted_type):
            action = rule(action, snap, instruction)
        action, snap = into_view(page, action, snap, observe)
        after = opens_under_pointer(page, action, snap, observe) if action.op in CLICKS else None
        if after is not None:
            if action.ref is not None and (shows := opened(snap, after)):
                openers.update(dict.fromkeys(item_of(after, action.ref), (action.op, shows)))
            continue  # the pointer rests on the target; the next look sees what it opened
        if action.ref in places:
            done_here.add((places.index(action.ref), action.op))
        if action.op in CLICKS and action.ref is not None:
            picked |= picked_words(snap, action.ref)
        if count and action.op in AT_A_POINT and action.ref is not None:  # a drag that drops nowhere clicks too
            if (target := snap.by_ref().get(action.ref)) is not None:
                clicked_of.setdefault(kind(target), set()).add(target.ref)
        clicked = (action.ref, gap) if action.op in AT_A_POINT and action.ref is not None and gap is not None else None
        perform(page, action, snap)
        run.actions.append(action)
    if done():
        run.stopped = "done"
    return run


def run_on_url(
    model_dir: Path,
    url: str,
    instruction: str,
    max_steps: int = 12,
    record: bool = False,
    headless: bool = True,
) -> tuple[Run, str | None]:
    """Open ``url`` and let the agent work on ``instruction``; returns the run and,
    with ``record``, the id of the session it was recorded as.

    Recording goes through the recorder's own path (``record_and_upload``: the
    durable spool, then the embedded store), with the agent as the actor, so
    an agent's run is stored exactly like a person's.
    """
    agent = Agent(model_dir)
    result: list[Run] = []

    def act(page: Page) -> None:
        result.append(run_agent(page, agent, instruction, max_steps=max_steps))

    if record:
        from demoforge.capture.session import record_and_upload

        recording, _ = record_and_upload(url, actor=act, headless=headless, instruction=instruction)
        return result[0], recording.session_id

    from demoforge.capture.browser import launch_browser

    with launch_browser(headless=headless) as browser:
        page = browser.new_page()
        page.goto(url)
        act(page)
    return result[0], None
