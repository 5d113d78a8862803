"""Turn (instruction, page, history) into the tensors the policy reads.

Everything here is generic web-page reading, the same for every task: the
page's elements are described by their own words (tag, text, value, label),
their place on the page and their state (focused, checked, filled), and by how
well their words match the instruction's. The field's experience (CC-Net, WGE)
is that those instruction/element match features carry most of the signal for
choosing a target, so they are computed explicitly rather than left for a
small network to discover from a few thousand demonstrations.

Text is embedded with the frozen MiniLM sentence encoder (``encoder``).
"""

from __future__ import annotations

import colorsys
import functools
import json
import math
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np
import torch
import webcolors

from demoforge.dataset.actions import OPS, Action
from demoforge.dataset.miniwob_dom import INTERACTIVE_TAGS, SVG_SHAPES, is_transparent, target_of
from demoforge.dataset.reduce import is_editable
from demoforge.events import DomSnapshot, Element
from demoforge.learn.dates import N_DATE_ELEMENT, N_DATE_GLOBAL, date_features
from demoforge.learn.encoder import TextEncoder
from demoforge.learn.quantities import Seen, superlative

#: At most this many elements of a page are shown to the policy (document order).
MAX_ELEMENTS = 160
#: The actions of the history that are described to the policy, newest first.
HISTORY = 4
#: Pixel scale for positions (MiniWoB++'s task area is 160 x 210 px).
PX = 200.0

TAG_BUCKETS = 64
#: A word, or a number with its minus sign: "-5" is not "5" (use-spinner's "Select -5" once
#: matched a spinner showing 5, and the policy submitted it). A hyphen between words or
#: digits ("10-20-2017", "well-known") is no sign.
_WORD = re.compile(r"(?<!\w)-\d+|\w+")
#: Not right after a minus sign: where "5" alone starts, it does not start inside "-5".
_NOT_SIGNED = r"(?<!\w)(?<!(?<!\w)-)"
#: Quotation marks delimit a value in an instruction; nobody types them with it.
QUOTE_MARKS = "\"'“”‘’"
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']+)'|“([^”]+)”")

#: How the one number an instruction names stands to the one number a field in sight
#: holds; see ``number_against_field``.
N_NUMBER = 4
#: Per element: it holds the amount the instruction's superlative asks for
#: (``quantities.superlative``), its nearness to such an element, and being in its group.
N_SUPERLATIVE = 3
#: Numeric features per element; see ``element_features`` for their meaning. The number
#: comparison is the same in every row: there, each element can combine it with its own
#: look and place (the spinner's up arrow above its down arrow); as a global column it
#: reached the elements only through attention, and the policy ignored it.
N_ELEMENT_FEATURES = 43 + HISTORY + N_DATE_ELEMENT + 1 + 2 + N_NUMBER + N_SUPERLATIVE + 1
#: The last column of ``element_features``: the share of the instruction's quoted values
#: the element's text holds (``quoted_parts``); the superlative's columns are just before it.
QUOTED_PARTS = N_ELEMENT_FEATURES - 1
#: Column of ``element_features`` that says which of an element's two labels is nearer to it:
#: 1 the text before it, -1 the text after it, 0 neither (a tie, or no text on either side).
NEARER_LABEL = 1 + 4 + 2 * (1 + 4 + 1)  # after the element's own similarity and matches, and both labels'
#: Numeric features per instruction word piece; see ``token_features``.
N_TOKEN_FEATURES = 8
#: Columns of ``token_features``: the piece is inside a quoted value (its marks included);
#: the piece starts a word / ends a word (a quotation mark does neither); the piece is a
#: quotation mark that opens or closes a value (not an apostrophe inside a word); the
#: piece's word is written on the page.
IN_QUOTES, WORD_START, WORD_END, QUOTE, SHOWN = 0, 4, 5, 6, 7
#: Words either side of where the instruction names an element that tell its part in the
#: instruction: "the email from _ to", "message to _".
ROLE_WORDS = 2
#: Numeric features of the whole step: the ops of the recent actions, the step count, and
#: how a calendar's month stands to the date asked for (``dates.date_features``).
N_GLOBAL_FEATURES = HISTORY * len(OPS) + 2 + N_DATE_GLOBAL


def words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").lower())


def norm(text: str | None) -> str:
    return " ".join(words(text))


def bucket(name: str | None) -> int:
    """A stable small id for a tag or input type (0 = none); Python's hash is salted, so no."""
    if not name:
        return 0
    return 1 + sum((i + 1) * ord(c) for i, c in enumerate(name.lower())) % (TAG_BUCKETS - 1)


def element_string(e: Element) -> str:
    """The words of an element as a person would read them, for the sentence encoder.

    Only fields that imported demonstrations and live snapshots both carry are
    used (not ``role``/``name``, which only the live recorder computes), so the
    policy meets the same strings at run time as in training. Classes stand in
    for what an icon or a swatch without words looks like ("star", "trash").
    An element's ``id`` is left out: nobody sees it, and a page may name an
    element by its answer (grid-coordinate's points have ids "(1,-2)").
    """
    parts = [e.tag.lower(), e.input_type or "", e.text or "", page_classes(e.classes), colour_words(e.color)]
    return " ".join(p for p in parts if p)[:200]


_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)")
#: Colour families by hue (upper bound in degrees), for colours saturated enough to have one.
HUE_FAMILIES = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (195, "cyan"), (255, "blue"),
                (290, "purple"), (345, "magenta"), (360, "red"))


@functools.cache
def _named_colours() -> list[tuple[str, tuple[int, int, int]]]:
    return [(name, tuple(webcolors.name_to_rgb(name))) for name in webcolors.names("css3")]


@functools.cache
def colour_words(color: str | None) -> str:
    """A CSS colour in the words a person would use: the nearest CSS colour name, then
    its family when that is another word ("forestgreen green", "olive yellow", "gray").

    A swatch has no text, so these words are all that tell a red box from a blue
    one; the family gives every shade of a hue the same plain word, as in "the
    shades of red". Empty for no colour, a transparent one, or one not in ``rgb()``.
    """
    m = _RGB.match(color or "")
    if not m or is_transparent(color or ""):
        return ""
    rgb = tuple(min(round(float(v)), 255) for v in m.groups())
    name = min(_named_colours(), key=lambda nc: sum((a - b) ** 2 for a, b in zip(nc[1], rgb)))[0]
    hue, light, sat = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
    if light < 0.12:
        family = "black"
    elif light > 0.93:
        family = "white"
    elif sat < 0.15:
        family = "gray"
    else:
        family = next(f for bound, f in HUE_FAMILIES if hue * 360 < bound)
    return name if name == family else f"{name} {family}"


#: Classes that say where the pointer is, not what the page shows: any "…hover…"
#: or "…focus…" class, and jQuery UI's interaction states (its CSS framework sets
#: ``ui-state-hover``/``ui-state-focus`` on mouse-over and ``ui-state-active`` on
#: mouse-down or on the menu item under the pointer).
POINTER_CLASS = re.compile(r"hover|focus|^ui-state-active$", re.IGNORECASE)


def page_classes(classes: str | None) -> str:
    """An element's classes without those that follow the pointer.

    A recording's snapshot for a click is taken as the button goes down, with
    the pointer already resting on the element about to be clicked; its hover
    class marks the answer. The agent decides before it moves the pointer, so
    that mark is never there for it: a policy that learned it clicks wherever
    the mouse happens to be (a date picker's day under the last click).
    """
    return " ".join(c for c in (classes or "").split() if not POINTER_CLASS.search(c))


def labels(elements: list[Element]) -> list[tuple[int | None, int | None]]:
    """For each element, the indices of the nearest elements before and after it in
    reading order that show text: where a person looks for a field's label when
    the page does not bind one. Most forms put it above or beside the field, some
    below it; the policy reads both, with how far each is (``gap``)."""
    before, last = [], None
    for i, e in enumerate(elements):
        before.append(last)
        if e.text:
            last = i
    after, following = [], None
    for i in reversed(range(len(elements))):
        after.append(following)
        if elements[i].text:
            following = i
    return list(zip(before, reversed(after)))


def gap(a: Element, b: Element) -> float:
    """The distance in px between two elements' boxes (0 when they touch or overlap)."""
    dx = max(0.0, a.box.x - (b.box.x + b.box.width), b.box.x - (a.box.x + a.box.width))
    dy = max(0.0, a.box.y - (b.box.y + b.box.height), b.box.y - (a.box.y + a.box.height))
    return math.hypot(dx, dy)


def label_gap(px: float) -> float:
    """A label's distance as the policy reads it, in 0..1 (1 for none, at ``math.inf``): on a
    log scale, because a form tells its own label from the next field's by a few px (0
    against 5 in MiniWoB++'s forms, above or below alike), which a linear scale fit for a
    page's width flattens."""
    return min(math.log1p(px), 6.0) / 6.0


def field_value(e: Element) -> str:
    """A field's text, as the policy can learn it from the recordings.

    A checkbox's or radio's ``value`` attribute is not what it shows. A
    ``<select>``'s value is read as none: the 2017 dumps never carry one (not
    one of the 453 selects in the training examples has a value), while a live
    drop-down always shows an option. The policy read that value as a field
    already filled in, which it had never met on a select, and clicked Submit
    without choosing (choose-list).
    """
    if e.input_type in ("checkbox", "radio") or e.tag.lower() == "select":
        return ""
    return e.value or ""


def _within(spans: list[tuple[int, int]], a: int, b: int) -> bool:
    """Whether the characters a..b lie wholly inside one of ``spans``."""
    return any(s <= a and b <= e for s, e in spans)


#: A field's name written into the instruction before its value: "from: Akuton, AK to:
#: Binghamton, NY". A colon inside a word or a number ("10:30") is none.
_FIELD_NAME = re.compile(r"\b\w+:(?=\s|$)")


def field_name_pieces(instruction: str, offsets: list[tuple[int, int]]) -> torch.Tensor:
    """Per word piece: whether it is part of a field's name the instruction writes as
    "word:". What a person types is never one: none of the 927 recorded typings found
    verbatim in their instruction holds one, and the copy head, whose span scores a
    start and an end, once typed "GYY to: Sand Point, AK" into the From field."""
    names = [m.span() for m in _FIELD_NAME.finditer(instruction)]
    return torch.tensor([_within(names, a, b) for a, b in offsets], dtype=torch.bool)


def _spans_of_words(instruction: str, vocabulary: Set[str]) -> list[tuple[int, int]]:
    """Where the instruction's words that are in ``vocabulary`` (lower case, ``words``) lie."""
    return [m.span() for m in _WORD.finditer(instruction.lower()) if m.group() in vocabulary]


def picked_words(snapshot: DomSnapshot, ref: int) -> set[str]:
    """The words a person picks an element by: its own, and those of the text before it
    (its label, ``labels``): the sender's name above an email's subject, a field's name.
    Not the text after it, which on a list is the next row's."""
    elements = visible_elements(snapshot)
    at = next((i for i, e in enumerate(elements) if e.ref == ref), None)
    if at is None:
        return set()
    label = labels(elements)[at][0]
    return {w for j in (at, label) if j is not None for w in words(elements[j].text)}


def picked_pieces(instruction: str, offsets: list[tuple[int, int]], picked: Set[str]) -> torch.Tensor:
    """Per word piece: whether its word is one of ``picked``, the words of what was clicked
    before in this episode (``picked_words``). What a person types is not what they
    found something by: no word of 1,454 of the 1,464 recorded typings of the
    instruction's text was among the words of the elements they had clicked before,
    and in 50 of the 58 forward typings ("Forward to Sibylla the email that Orsola
    sent"), the other name, the sender's, was. The policy typed the sender's name into
    the forward field in 6 of 10 traced email-inbox-forward-nl-turk episodes."""
    spans = _spans_of_words(instruction, picked)
    return torch.tensor([_within(spans, a, b) for a, b in offsets], dtype=torch.bool)


def waiting_pieces(instruction: str, offsets: list[tuple[int, int]], typed: Sequence[str]) -> torch.Tensor:
    """Per word piece: whether it is in a quoted value whose turn has not come, one the
    instruction quotes after a value not typed yet. ``typed`` holds the texts typed so
    far; a value is typed once one of them begins it, in any case ("lax" is not yet Los
    Angeles; "Balti" is Baltimore begun). A field's name quoted before its colon
    ('"Departure City":') is no value.

    People type the values an instruction quotes in its order: so were 837 of the 846
    recorded typings of a quoted value; the 9 others, all flight.Alaska-auto's, typed an
    airport's code for its city. The copy head typed "nmar" for 'Enter an item that
    starts with "My" and ends with "nmar"', for which a person types "My" and picks
    the suggestion that ends with "nmar".
    """
    values = [
        (m.span(), next(g for g in m.groups() if g))
        for m in _QUOTED.finditer(instruction) if not instruction[m.end() :].lstrip().startswith(":")
    ]
    begun = [t.lower() for t in typed if t]
    turn = next(((span, v) for span, v in values if not any(v.lower().startswith(t) for t in begun)), None)
    later = [] if turn is None else [span for span, v in values if span[0] > turn[0][0] and v != turn[1]]
    return torch.tensor([_within(later, a, b) for a, b in offsets], dtype=torch.bool)


def quoted_as_written(text: str) -> list[str]:
    """The values ``text`` quotes, as written (case and all)."""
    return [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]


def quoted(text: str) -> list[str]:
    return [norm(q) for q in quoted_as_written(text)]


def contained_in(text_norm: str, instr_norm: str) -> bool:
    """Whether the instruction names these (normalised) words, whole, in this order."""
    return f" {text_norm} " in f" {instr_norm} "


def match_text(e: Element, instr_norm: str) -> str:
    """What an element says, to match against the instruction: its text; else its
    classes, where the instruction writes them whole; else its colour's words.

    An icon has no text, and what a person matches is its picture. Where the
    instruction shows the same picture (click-menu-2's "the item with the [play
    icon] icon"), the environment writes it as the picture's classes, and the
    icon in the menu is matched by the same classes; an inbox's "star" icon is
    matched by "click the star icon". Classes the instruction does not write
    whole say nothing a person reads ("ui-icon ui-icon-disk" beside
    "ui-icon-play" shares only "ui icon"), so they are not read.
    """
    if e.text:
        return e.text
    classes = page_classes(e.classes)
    if classes and contained_in(norm(classes), instr_norm):
        return classes
    return colour_words(e.color)


def match_features(text: str | None, instr_words: set[str], instr_norm: str, quotes: list[str]) -> list[float]:
    """How the words of ``text`` meet the instruction's: overlap, containment, quoted equality."""
    w = words(text)
    if not w:
        return [0.0, 0.0, 0.0, 0.0]
    n = " ".join(w)
    overlap = sum(x in instr_words for x in w) / len(w)
    contained = float(contained_in(n, instr_norm))
    is_quoted = float(n in quotes)
    return [overlap, contained, is_quoted, 1.0]


def quoted_parts(text: str | None, quotes: list[str]) -> float:
    """The share of the instruction's quoted values that ``text`` holds, inside a word or not.

    "Enter an item that starts with "Ja" and ends with "ca"" asks for the suggestion
    that holds both: Jamaica, not Japan. Word matching sees neither in either ("ja"
    is no word of "jamaica"), and the policy clicked the first suggestion.
    """
    if not quotes or not text:
        return 0.0
    held = norm(text)
    return sum(q in held for q in quotes) / len(quotes)


_NUMBER = re.compile(r"-?\d+")


def number_gap(elements: list[Element], instruction: str) -> int | None:
    """How far the number the instruction asks for is above the number a field holds
    (negative: below), or None where that is ambiguous: the instruction must name one
    number (not "0-9"), and one field in sight hold a whole number."""
    asked = [w for w in words(instruction) if _NUMBER.fullmatch(w)]
    held = [v for v in (field_value(e).strip() for e in elements) if _NUMBER.fullmatch(v)]
    if len(asked) != 1 or len(held) != 1:
        return None
    return int(asked[0]) - int(held[0])


def number_against_field(elements: list[Element], instruction: str) -> list[float]:
    """Whether the number the instruction asks for is above, the same as, or below the
    number a field holds, and how far (up to 10 apart); zeros where ``number_gap`` is None.

    A spinner ("Select 3 with the spinner") is set by clicking its up or down
    arrow until it shows the number: which arrow, and when to stop, follow from
    comparing two numbers, which word matching cannot do ("3" does not match
    "0"; the policy clicked the down arrow for every number).
    """
    away = number_gap(elements, instruction)
    if away is None:
        return [0.0] * N_NUMBER
    return [float(away > 0), float(away == 0), float(away < 0), min(abs(away), 10) / 10]


def _run(w: list[str]) -> re.Pattern[str]:
    """Where lower-cased text says the words ``w``, whole, in this order, whatever is between them."""
    return re.compile(_NOT_SIGNED + r"\W+".join(map(re.escape, w)) + r"(?!\w)")


#: Per element: where the instruction first names its whole text (``first_names``).
Names = list[re.Match[str] | None]
#: Per element: a mark, or None for an unmarked element. ``first_names`` marks the
#: elements the instruction names; ``quantities.superlative`` the amount it asks for.
Marks = Sequence[object | None]


def first_names(elements: list[Element], instruction: str) -> Names:
    """Per element: where the instruction first names its whole text, if it does (in the
    lower-cased instruction). ``steps_up_to_named``, ``mentions``, ``mention_contexts``
    and ``named_places`` each read this one pass."""
    lower = instruction.lower()
    norm_instr = norm(instruction)
    out: Names = []
    for e in elements:
        w = words(e.text)
        out.append(_run(w).search(lower) if w and contained_in(" ".join(w), norm_instr) else None)
    return out


def _shared(a: list[str], b: list[str]) -> int:
    """How many steps from the root two selector paths share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def tree_paths(elements: list[Element]) -> list[list[str] | None]:
    """Each element's place in the page's tree: its selector's steps from the root
    (``#main > div:nth-of-type(4) > span``), which imported and live snapshots both
    carry; None without a selector."""
    return [e.selector.split(" > ") if e.selector else None for e in elements]


def steps_up_to_named(paths: list[list[str] | None], names: Marks) -> list[int | None]:
    """For each element, how many steps up the page's tree it takes to meet an element
    whose whole text the instruction names; None when there is none to meet.

    This is how a person finds "the star of the email by Julietta" or "the
    retweet button of the post by @ante": first the named thing, then the
    control in the same row or card. ``paths`` are the elements' ``tree_paths``.
    """
    named = [p for p, m in zip(paths, names) if p and m is not None]
    out: list[int | None] = []
    for path in paths:
        best = None
        for other in named if path else ():
            shared = _shared(path, other)
            if shared and (best is None or len(path) - shared < best):
                best = len(path) - shared
        out.append(best)
    return out


def owners(paths: list[list[str] | None], looks: Sequence[object], look: object) -> list[int | None]:
    """Per element: the element of this ``look`` (tag and classes, or any mark that like
    elements share) that is alone with it in the smallest part of the page that holds
    both, if one is; None where two such elements are as near, or fewer than two are on
    the page.

    On a feed, each post's controls belong to its author's handle; the Submit button
    below the feed, as near to every handle, belongs to none. ``paths`` are the
    elements' ``tree_paths``.
    """
    alike = [j for j, other in enumerate(looks) if other == look and paths[j]]
    out: list[int | None] = [None] * len(paths)
    if len(alike) < 2:
        return out
    held: dict[tuple[str, ...], list[int]] = {}  # a part of the page (a path's first steps) -> the alike in it
    for j in alike:
        for k in range(1, len(paths[j]) + 1):
            held.setdefault(tuple(paths[j][:k]), []).append(j)
    for i, path in enumerate(paths):
        for k in range(len(path or ()), 0, -1):
            if (inside := held.get(tuple(path[:k]))) is not None:
                out[i] = inside[0] if len(inside) == 1 else None
                break
    return out


def in_named_group(elements: list[Element], paths: list[list[str] | None], names: Marks) -> list[float]:
    """Per element: 1 when it belongs to a named element (``owners``): it shares a group of
    the page (an element of the tree) with it, and that group holds no other element
    that looks like the named one.

    This is the named sender's row, or the named author's post: the smallest part of
    the page that holds @kenda and no other author. A person clicks the "Like" of that
    post, and no "Like" of a post by someone else. Being the nearest "Like" to a named
    author (``steps_up_to_named``) is relative: with every post in sight by @kenda, or
    a lone "Like" in sight, no "Like" is nearer than another, and the policy learnt to
    click a "Like" that is no nearer than the rest, then did so in @vel's posts. A name
    with nothing that looks like it in sight (one "Submit" button) makes no group.
    """
    looks = [(e.tag, page_classes(e.classes)) for e in elements]  # look-alikes share tag and classes
    of_look: dict[tuple[str, str], list[int | None]] = {}
    out = [0.0] * len(elements)
    for n, m in enumerate(names):
        if m is None:
            continue
        if looks[n] not in of_look:
            of_look[looks[n]] = owners(paths, looks, looks[n])
        out = [1.0 if owner == n else x for x, owner in zip(out, of_look[looks[n]])]
    return out


def nearness_features(elements: list[Element], names: Marks) -> list[tuple[float, float]]:
    """Per element: nearness in the tree to a named element, and whether it is in a
    named element's own group (``in_named_group``): the star in the named sender's row.
    Any marks will do for names: the "Book" button in the row of the shortest duration
    is found as the star in the named sender's row is."""
    paths = tree_paths(elements)
    ups = steps_up_to_named(paths, names)
    group = in_named_group(elements, paths, names)
    return [(0.0 if up is None else 1 / (1 + up), g) for up, g in zip(ups, group)]


def mentions(names: Names, offsets: list[tuple[int, int]]) -> np.ndarray:
    """(E, 2): for each element whose whole text the instruction names, the first and
    last instruction word piece of where it first names it; (-1, -1) for the others.

    The policy reads those pieces' *contextual* vectors (``model.collate``): two
    names on the page can both be in the instruction in different parts, as in
    "Forward Devinne the message Berti sent you" over an inbox where both wrote
    mail. Word matching marks both rows alike; the encoder's vector of "Berti"
    in this sentence also carries that Berti is the one who sent.
    """
    out = np.full((len(names), 2), -1, dtype=np.int64)
    for i, m in enumerate(names):
        pieces = [k for k, (a, b) in enumerate(offsets) if m and a < m.end() and b > m.start()]
        if pieces:
            out[i] = pieces[0], pieces[-1]
    return out


def mention_contexts(
    names: Names, instruction: str, label_of: list[tuple[int | None, int | None]]
) -> list[str]:
    """Per element: the words around where the instruction first names its whole text,
    the name itself left out ("the email from _ to"); else those around where it
    names the element's label, the text just before it; else "".

    The name's contextual vector (``mentions``) did not tell the policy who is who:
    over an inbox where both people wrote mail, it opened the recipient's mail as
    often as the sender's for "Forward the last email from Josselyn to Pauli"
    (5 of 10 episodes of email-inbox-forward-nl-turk). The words next to a name
    ("from _", "to _", "_ sent") say its part, the same for every name. A mail's
    subject, which people click to open it, reads its sender's part as its label's.
    """
    lower = instruction.lower()
    own = []
    for m in names:
        if m is None:
            own.append("")
            continue
        before, after = words(lower[: m.start()])[-ROLE_WORDS:], words(lower[m.end() :])[:ROLE_WORDS]
        own.append(" ".join([*before, "_", *after]))
    return [c or ("" if label is None else own[label]) for c, (label, _) in zip(own, label_of)]


def named_places(names: Names, instruction: str) -> list[tuple[float, float]]:
    """Per element whose whole text the instruction names: where it first names it, as a
    share of the instruction's length, and whether it is the last of two or more places
    the instruction names on the page (0, 0 for the others).

    A path names the thing to click last: "Select Sibley>Lainey>Brigid" is a click on
    Brigid, with the menus that lead to it open. Both of a path's ends match the
    instruction's words alike, and the policy clicked the first one, whose click ends
    the task. One name alone is no path: marked "last", the "Menu" button of "Click the
    Menu button, then the item labelled Prev" was clicked again over its open menu."""
    starts = [None if m is None else m.start() for m in names]
    named = {s for s in starts if s is not None}
    last = max(named) if len(named) > 1 else None
    size = max(len(instruction), 1)
    return [(0.0, 0.0) if s is None else (s / size, float(s == last)) for s in starts]


_ORDINAL = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last))\b")
# How many words after a place may name the kind counted ("the 2nd radio button"),
# and the shortest kind name read there (a tag such as "a" begins too many words).
_KIND_WORDS, _KIND_NAME = 3, 3
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinals(instruction: str) -> list[tuple[int, list[str]]]:
    """The places the instruction counts to, outside quoted values, each with the few
    words after it: "the 3rd textbox" is (3, ["textbox"]), "the second radio button"
    (2, ["radio", "button"]), "the last" -1. A quoted value ("First" as a seat type,
    the link "13th") is a thing's name, not a place."""
    text = _QUOTED.sub(" ", instruction.lower())
    out = []
    for m in _ORDINAL.finditer(text):
        digits, word = m.groups()
        place = int(digits) if digits else -1 if word == "last" else _ORDINAL_WORDS.index(word) + 1
        out.append((place, words(text[m.end():])[:_KIND_WORDS]))
    return out


def _named_kinds(after: list[str], kinds: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """The kinds the first word of ``after`` that names one on the page names: a word
    that begins with the kind's name ("radio", "textbox"); none when no word does."""
    for w in after:
        if named := [key for key, name in kinds.items() if len(name) >= _KIND_NAME and w.startswith(name)]:
            return named
    return []


def counted(elements: list[Element], instruction: str) -> list[float]:
    """Per element: 1 when its place among the elements of its kind (tag and input type,
    in reading order) is one the instruction counts to, else 0. A person finds "the
    2nd radio button" by counting the radio buttons; no word of it names one.

    The first word after the place that names a kind on the page ("radio" in "the
    3rd radio button", "textbox" in "the 2nd textbox": a word that begins with the
    kind's name) says which kind is counted; with none ("the 9th search result",
    "the last one"), the place counts in every kind. Counting in every kind, "check
    the 3rd radio button and type into the 2nd textbox" marked the 3rd and the 2nd
    of each kind, and the policy typed into both textboxes."""
    kinds: dict[tuple[str, str], list[int]] = {}
    for i, e in enumerate(elements):
        kinds.setdefault((e.tag.lower(), e.input_type or ""), []).append(i)
    # What a person calls a kind: its input type ("radio", "text", "checkbox"), else its tag ("button").
    kind_names = {key: (key[1] or key[0]).lower() for key in kinds}
    out = [0.0] * len(elements)
    for place, after in ordinals(instruction):
        for key in _named_kinds(after, kind_names) or list(kinds):
            members = kinds[key]
            k = len(members) - 1 if place == -1 else place - 1
            if 0 <= k < len(members):
                out[members[k]] = 1.0
    return out


#: The first letters of a word that say which word it is, whatever its ending: the
#: instruction's "directed" meets the label "Director", "departing" meets "Departure".
STEM = 5


def _stem(word: str) -> str | None:
    """A word's stem, or None for a word too short to tell (2 letters: "to", "by") and for
    a number, which is a value, not a label's word."""
    if len(word) < 3 or word.lstrip("-").isdigit():
        return None
    return word[:STEM]


def word_stems(text: str) -> list[tuple[tuple[int, int], str | None]]:
    """Each word of ``text``: where it lies, and its stem (``_stem``)."""
    return [(m.span(), _stem(m.group())) for m in _WORD.finditer(text.lower())]


def _stems(text: str | None) -> set[str]:
    return {s for s in map(_stem, words(text)) if s}


def stem_matches(
    elements: list[Element], label_of: list[tuple[int | None, int | None]], instruction: str, offsets: list[tuple[int, int]]
) -> np.ndarray:
    """(E, T, 3) bool: per element and instruction word piece, whether the stem of the word
    the piece is in is among the stems of the element's own words, of its label before, of
    its label after.

    The copy head reads the value next to the words that echo a field's label ("from
    **year** 1994" for "Year"). Sentence vectors of a piece against a label tell that
    echo well for the same word and badly for a word of the same root: "directed by
    Stuart" against "Director Name", "departing from" against "Departure City". The
    policy typed such values into the wrong fields of forms whose labels it reads by
    vectors alone (multi-layouts, multi-orderings).
    """
    found = word_stems(instruction)
    piece_stems = [next((s for (a0, b0), s in found if a0 <= a < b0), None) for a, _ in offsets]
    own = np.zeros((len(elements), len(offsets)), dtype=bool)
    for i, e in enumerate(elements):
        stems = _stems(e.text)
        own[i] = [s is not None and s in stems for s in piece_stems]
    # A label is an element of the page: its rows are its own words' matches (``labels``).
    out = np.zeros((len(elements), len(offsets), 3), dtype=bool)
    out[:, :, 0] = own
    for i, pair in enumerate(label_of):
        for k, j in enumerate(pair, start=1):
            if j is not None:
                out[i, :, k] = own[j]
    return out


def nearer_label(elements: list[Element], i: int, pair: tuple[int | None, int | None]) -> int | None:
    """Which of element ``i``'s two labels (``labels``: the text before it, the text after
    it) is nearer to it; None on a tie, or with neither."""
    before, after = (math.inf if j is None else gap(elements[i], elements[j]) for j in pair)
    return pair[0] if before < after else pair[1] if after < before else None


def elsewhere_pieces(elements: list[Element], instruction: str, offsets: list[tuple[int, int]]) -> torch.Tensor:
    """(E, T) bool: per field in sight (of two or more) and instruction word piece, whether
    the piece's word is another field's value by where it stands: next to an echo of
    another field's label (its nearer one: ``nearer_label``), by stem (``stem_matches``);
    or, for a field whose label the instruction echoes while just one other field's
    label it echoes nowhere, next to no echo of a label at all, which leaves the word to
    that other field. A word's neighbours are the nearest words with a stem on either
    side of it ("by" and "of" have none).

    A form's values stand next to the words that name their own fields: "directed by
    **Carr**" for "Director Name", "from year **2014**" for "Year", and "**saga** movies"
    for "Genre", which the instruction never names. In the recordings, none of the 738
    typings of the instruction's text into one of several fields stood next to an echo
    of another field's label, and one went against the second reading ("western" into
    "Year"). The copy head typed "Carr" into the field labelled "Movie Genre", and
    "thriller" into the one labelled "Director" (multi-layouts, multi-orderings).
    """
    out = torch.zeros((len(elements), len(offsets)), dtype=torch.bool)
    fields = [i for i, e in enumerate(elements) if is_editable(target_of(e))]
    if len(fields) < 2:
        return out
    label_of = labels(elements)
    named = {i: _stems(elements[j].text) if (j := nearer_label(elements, i, label_of[i])) is not None else set()
             for i in fields}
    found = word_stems(instruction)
    stems = [s for _, s in found]
    beside = [
        {next((s for s in reversed(stems[:k]) if s), None), next((s for s in stems[k + 1 :] if s), None)} - {None}
        for k in range(len(found))
    ]
    echoed = set(stems)
    every_label = set().union(*named.values())
    for i in fields:
        others = set().union(*(named[j] for j in fields if j != i)) - named[i]
        unnamed = [j for j in fields if j != i and named[j] and not named[j] & echoed]
        by_elimination = len(unnamed) == 1 and bool(named[i] & echoed)
        spans = [span for (span, _), near in zip(found, beside)
                 if near & others or (by_elimination and not near & every_label)]
        out[i] = torch.tensor([_within(spans, a, b) for a, b in offsets], dtype=torch.bool)
    return out


def _point(action: Action) -> tuple[float, float] | None:
    if action.x is not None and action.y is not None:
        return action.x, action.y
    if action.target is not None and action.target.box is not None:
        return action.target.box.middle()
    return None


def element_features(
    elements: list[Element],
    instruction: str,
    history: list[Action],
    sims: np.ndarray,
    label_of: list[tuple[int | None, int | None]],
    focused: int | None,
    date_rows: list[list[float]],
    names: Names,
    seen: Seen | None = None,
) -> np.ndarray:
    instr_words = set(words(instruction))
    instr_norm = norm(instruction)
    quotes = quoted(instruction)
    recent = list(reversed(history[-HISTORY:]))
    points = [_point(a) for a in recent]
    all_points = [p for p in map(_point, history) if p is not None]
    typed = {norm(a.text) for a in history if a.op == "type" and not a.masked}
    nearness = nearness_features(elements, names)
    places = counted(elements, instruction)
    named = named_places(names, instruction)
    number = number_against_field(elements, instruction)
    extreme = superlative(elements, instruction, seen)
    near_extreme = nearness_features(elements, [True if x else None for x in extreme])
    n = max(len(elements), 1)
    rows = []
    for i, e in enumerate(elements):
        b = e.box
        value = field_value(e)
        label_rows, gaps = [], []
        for j in label_of[i]:  # the text before, then the text after
            label = None if j is None else elements[j]
            gaps.append(math.inf if label is None else gap(e, label))
            label_rows += [
                0.0 if j is None else sims[j],
                *match_features(label and label.text, instr_words, instr_norm, quotes),
                label_gap(gaps[-1]),
            ]
        label_rows.append(float(gaps[0] < gaps[1]) - float(gaps[1] < gaps[0]))  # NEARER_LABEL
        hits = [
            float(p is not None and b.contains(*p)) for p in points
        ] + [0.0] * (HISTORY - len(points))
        row = [
            sims[i],
            *match_features(match_text(e, instr_norm), instr_words, instr_norm, quotes),
            *label_rows,
            *match_features(value, instr_words, instr_norm, quotes),
            float(bool(value) and norm(value) in typed),
            float(bool(value) or bool(e.filled)),
            float(e.focused or e.ref == focused),
            float(e.checked is True),
            float(e.checked is False),
            float(e.masked),
            float(bool(e.text)),
            math.log1p(len(e.text or "")) / 5,
            min(b.x / PX, 5),
            min(b.y / PX, 5),
            min(b.width / PX, 5),
            min(b.height / PX, 5),
            min((b.x + b.width / 2) / PX, 5),
            min((b.y + b.height / 2) / PX, 5),
            i / n,
            float(e.tag.lower() in ("input", "textarea", "select")),
            float(e.tag.lower() in ("button", "a") or e.role in ("button", "link")),
            float(b.width * b.height < 400),
            *nearness[i],
            *hits,
            min(sum(b.contains(*p) for p in all_points), 3) / 3,
            *date_rows[i],
            places[i],
            *named[i],
            *number,
            extreme[i],
            *near_extreme[i],
            quoted_parts(e.text, quotes),
        ]
        rows.append(row)
    return np.asarray(rows, dtype=np.float32).reshape(len(elements), N_ELEMENT_FEATURES)


def token_features(
    instruction: str, offsets: list[tuple[int, int]], history: list[Action], elements: list[Element]
) -> np.ndarray:
    """Per word piece: inside quotes, already typed, already in a field, position, word
    start, word end, quotation mark, shown on the page (see the column constants above).

    Shown tells apart the instruction's words a person reads on the page from those
    they type: one of the 1,464 recorded typings of the instruction's text was shown
    on the page where it was typed. (It does not tell a forward's two names apart:
    neither is on the forward form, and the inbox showed both; see ``picked_pieces``.)"""
    quote_spans = [m.span() for m in _QUOTED.finditer(instruction)]
    lower = instruction.lower()

    def spans_of(texts: set[str]) -> list[tuple[int, int]]:
        out = []
        for t in texts:
            start = lower.find(t) if t else -1
            while start >= 0:
                out.append((start, start + len(t)))
                start = lower.find(t, start + 1)
        return out

    typed = spans_of({a.text.lower() for a in history if a.op == "type" and a.text and not a.masked})
    filled = spans_of({e.value.lower() for e in elements if e.value and len(e.value) > 1})
    shown = _spans_of_words(instruction, {w for e in elements for w in words(e.text)})
    n = max(len(offsets), 1)
    rows = []
    for i, (a, b) in enumerate(offsets):
        rows.append(
            [
                float(_within(quote_spans, a, b)),
                float(_within(typed, a, b)),
                float(_within(filled, a, b)),
                i / n,
                float(instruction[a] not in QUOTE_MARKS and (a == 0 or not instruction[a - 1].isalnum())),
                float(instruction[b - 1] not in QUOTE_MARKS and (b == len(instruction) or not instruction[b].isalnum())),
                float(instruction[a:b] in QUOTE_MARKS and not (0 < a and b < len(instruction)
                                                                  and instruction[a - 1].isalnum() and instruction[b].isalnum())),
                float(_within(shown, a, b)),
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(offsets), N_TOKEN_FEATURES)


@dataclass
class StepFeatures:
    """One decision's inputs without a batch dimension.

    Texts are kept as strings, not vectors: a training set holds tens of
    thousands of steps over far fewer distinct strings, so the vectors are
    looked up in the encoder's cache when a batch is assembled.
    """

    elem_num: torch.Tensor  # (E, N_ELEMENT_FEATURES)
    elem_tag: torch.Tensor  # (E, 2) tag and input-type buckets
    elem_texts: list[str]  # (E,) element strings for the sentence encoder
    label_texts: list[str]  # (E,) the element string of the text before each element (its vector is the label's)
    after_texts: list[str]  # (E,) the same for the text after each element
    context_texts: list[str]  # (E,) the words around where the instruction names each element, or ""
    instruction: str
    glob: torch.Tensor  # (N_GLOBAL_FEATURES,)
    tok_num: torch.Tensor  # (T, N_TOKEN_FEATURES)
    refs: list[int]  # the element ref of each row
    offsets: list[tuple[int, int]]  # the character span of each instruction word piece
    mentions: torch.Tensor  # (E, 2) the word pieces where the instruction names each element, or -1
    stem_matches: torch.Tensor  # (E, T, 3) bool: a piece's word stem is in the element's words, its labels' (``stem_matches``)


def visible_elements(snapshot: DomSnapshot) -> list[Element]:
    """The elements the policy chooses among, in document order, capped.

    Those with an area and something to read or act on: text, a value, an
    interactive tag, or nothing inside them (an icon, a swatch, an empty
    cell). A live snapshot also keeps elements made interactive, or given a
    checked state, by attributes alone (``role``, ``tabindex``, ``onclick``,
    ``aria-selected``: a tab strip's ``<li>``); the 2017 DOM dumps carry no
    attributes, so a policy trained on them has never seen such a container
    apart from the text inside it: here it is cut, and both sources give the
    policy the same view. (A checkbox's checked state is kept: it is an
    ``input``.)

    Only elements whose middle lies in the viewport are in sight. A live
    snapshot keeps nothing far outside it, and the evaluation cuts its pages to
    the task area; the 2017 DOM dumps hold every post of a scrolled feed, most
    of them below the fold. Cut here, the policy learns from what the person
    saw (the Submit button below the feed shows once they scroll to it), which
    is what it will be given.
    """
    parents = {e.parent for e in snapshot.elements}
    view = snapshot.viewport
    return [
        e
        for e in snapshot.elements
        if e.box.width > 0
        and e.box.height > 0
        and (view is None or view.contains(*e.box.middle()))
        and (
            e.text
            or e.value is not None
            or e.tag.lower() in INTERACTIVE_TAGS
            or e.tag.lower() in SVG_SHAPES
            or e.ref not in parents
        )
    ][:MAX_ELEMENTS]


def page_view(snapshot: DomSnapshot) -> str:
    """What the policy can tell of a page, as one string: two snapshots with the same
    view are the same page to it (a moved pointer's hover mark is no change).

    Element refs are left out, and focus is told by position: a page that draws its
    content anew (a paged list's next page, then its previous one) shows new nodes,
    with new refs, for what a person sees as the page they were on.
    """
    elements = visible_elements(snapshot)
    focused = next((i for i, e in enumerate(elements) if e.ref == snapshot.focused), None)
    return json.dumps([focused, page_rows(snapshot)])


def page_rows(snapshot: DomSnapshot) -> list[tuple]:
    """What the policy can tell of each element in sight, in reading order, refs left out."""
    return [
        (element_string(e), e.value, e.checked, e.filled, e.focused, e.box.x, e.box.y, e.box.width, e.box.height)
        for e in visible_elements(snapshot)
    ]


def texts_of(instruction: str, snapshot: DomSnapshot) -> list[str]:
    """Every string ``featurize`` embeds for this step (for batched prefetching)."""
    elements = visible_elements(snapshot)
    contexts = mention_contexts(first_names(elements, instruction), instruction, labels(elements))
    return [instruction, *map(element_string, elements), *filter(None, contexts)]


def featurize(
    instruction: str,
    snapshot: DomSnapshot,
    history: list[Action],
    encoder: TextEncoder,
    seen: Seen | None = None,
) -> StepFeatures:
    """One step's features. ``seen`` holds the amounts a look down the page showed
    beyond those in sight (``quantities.superlative``)."""
    elements = visible_elements(snapshot)
    elem_texts = [element_string(e) for e in elements]
    # A label is read through its own element's words, whose vector the page's
    # first look computes anyway: embedding label texts apart cost a third more
    # encoder work, the bulk of an agent step.
    label_of = labels(elements)
    label_texts = ["" if j is None else elem_texts[j] for j, _ in label_of]
    after_texts = ["" if j is None else elem_texts[j] for _, j in label_of]
    vectors = encoder.embed([instruction, *elem_texts], pieces_of=instruction)
    _, offsets = encoder.tokens(instruction)  # computed by the pass above
    sims = vectors[1:] @ vectors[0]
    date_glob, date_rows = date_features(elements, instruction)
    names = first_names(elements, instruction)
    num = element_features(
        elements, instruction, history, sims, label_of, snapshot.focused, date_rows, names, seen
    )
    tags = np.asarray([[bucket(e.tag), bucket(e.input_type)] for e in elements], dtype=np.int64)
    recent = list(reversed(history[-HISTORY:]))
    glob = np.zeros(N_GLOBAL_FEATURES, dtype=np.float32)
    for k, a in enumerate(recent):
        glob[k * len(OPS) + OPS.index(a.op)] = 1.0
    n_ops = HISTORY * len(OPS)
    glob[n_ops] = min(len(history), 20) / 10
    glob[n_ops + 1] = float(not history)
    glob[n_ops + 2 :] = date_glob
    tok_num = token_features(instruction, offsets, history, elements)
    return StepFeatures(
        elem_num=torch.from_numpy(num),
        elem_tag=torch.from_numpy(tags.reshape(len(elements), 2)),
        elem_texts=elem_texts,
        label_texts=label_texts,
        after_texts=after_texts,
        context_texts=mention_contexts(names, instruction, label_of),
        instruction=instruction,
        glob=torch.from_numpy(glob),
        tok_num=torch.from_numpy(tok_num),
        refs=[e.ref for e in elements],
        offsets=offsets,
        mentions=torch.from_numpy(mentions(names, offsets)),
        stem_matches=torch.from_numpy(stem_matches(elements, label_of, instruction, offsets)),
    )


def span_label(instruction: str, offsets: list[tuple[int, int]], text: str) -> tuple[int, int] | None:
    """The word-piece span of ``offsets`` whose characters are exactly ``text``, if any.

    Exact case first, then ignoring case; the first occurrence that lines up
    with word-piece boundaries is taken.
    """
    if not text:
        return None
    for hay, needle in ((instruction, text), (instruction.lower(), text.lower())):
        start = hay.find(needle)
        while start >= 0:
            end = start + len(needle)
            s = next((i for i, (a, _) in enumerate(offsets) if a == start), None)
            t = next((i for i, (_, b) in enumerate(offsets) if b == end), None)
            if s is not None and t is not None and t >= s:
                return s, t
            start = hay.find(needle, start + 1)
    return None
