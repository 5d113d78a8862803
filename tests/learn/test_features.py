"""What the policy is shown of a page: the same view of live and imported snapshots."""

from __future__ import annotations

from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import (
    WORD_END,
    WORD_START,
    element_string,
    featurize,
    nearness_features,
    norm,
    page_view,
    texts_of,
    token_features,
    visible_elements,
)


def element(ref: int, tag: str, parent: int | None = None, **fields: object) -> Element:
    return Element(ref=ref, tag=tag, parent=parent, box=Box(x=0, y=ref * 20, width=50, height=15), **fields)


def test_attribute_only_containers_are_cut_and_leaves_kept() -> None:
    snap = DomSnapshot(
        elements=[
            element(1, "li", role="tab", checked=True),  # kept live for its role and aria-selected; the 2017 dumps never show it
            element(2, "a", parent=1, text="Tab #2"),
            element(3, "div", classes="color"),  # a swatch: nothing inside it
            element(4, "div", role="button"),
            element(5, "span", parent=4, text="OK"),
            element(6, "input", input_type="password", masked=True, filled=True),
        ]
    )
    assert [e.ref for e in visible_elements(snap)] == [2, 3, 5, 6]


def test_elements_without_area_are_not_shown() -> None:
    flat = Element(ref=1, tag="div", text="hidden", box=Box(x=0, y=0, width=40, height=0))
    assert visible_elements(DomSnapshot(elements=[flat, element(2, "button", text="Go")])) == [
        element(2, "button", text="Go")
    ]


def test_classes_that_follow_the_pointer_are_not_read() -> None:
    """A recorded click's snapshot has the pointer on the target already; its hover
    class must not tell the policy which day of a date picker to click."""
    hovered = element(1, "a", text="22", classes="ui-state-default ui-state-hover")
    pressed = element(2, "div", text="Open", classes="ui-menu-item-wrapper ui-state-active")
    assert element_string(hovered) == element_string(element(1, "a", text="22", classes="ui-state-default"))
    assert element_string(pressed) == "div Open ui-menu-item-wrapper"
    assert element_string(element(3, "span", classes="star hover-glow is-focused")) == "span star"


def test_the_control_in_the_named_row_is_the_nearest_of_its_kind() -> None:
    """ "Star the email by Julietta": the star in Julietta's row is nearer in the
    tree to the named sender than the other rows' stars, and flagged so."""
    rows = []
    for i, sender in enumerate(["Emmi", "Julietta", "Letty"], start=1):
        row = f"#main > div:nth-of-type({i})"
        rows += [
            element(10 * i, "div", text=sender, classes="email-sender", selector=f"{row} > div:nth-of-type(1) > div"),
            element(10 * i + 1, "span", classes="star", selector=f"{row} > div:nth-of-type(2) > span"),
        ]
    near = nearness_features(rows, norm("Find the email by Julietta and click the star icon."))
    stars = [f for e, f in zip(rows, near) if e.classes == "star"]
    assert [flag for _, flag in stars] == [0.0, 1.0, 0.0]
    assert stars[1][0] > stars[0][0] == stars[2][0] > 0
    senders = [f for e, f in zip(rows, near) if e.classes == "email-sender"]
    assert senders[1] == (1.0, 1.0)
    assert nearness_features(rows, norm("Click the trash icon.")) == [(0.0, 0.0)] * len(rows)


def test_a_hover_mark_is_no_change_of_the_page() -> None:
    before = DomSnapshot(elements=[element(1, "button", text="Go", classes="btn"), element(2, "input", value="")])
    hovered = DomSnapshot(elements=[element(1, "button", text="Go", classes="btn hover"), element(2, "input", value="")])
    typed = DomSnapshot(elements=[element(1, "button", text="Go", classes="btn"), element(2, "input", value="a")])
    assert page_view(before) == page_view(hovered) != page_view(typed)


def test_a_label_is_read_through_its_own_elements_words() -> None:
    """The label's vector is its element's, which the page's first look embeds
    anyway; its words still count for matching the instruction."""
    snap = DomSnapshot(
        elements=[
            element(1, "label", text="Username"),
            element(2, "input", input_type="text"),
            element(3, "button", text="Login"),
        ]
    )
    instruction = "Enter the username lana and press Login"
    assert texts_of(instruction, snap) == [instruction, "label Username", "input text", "button Login"]
    feats = featurize(instruction, snap, [], text_encoder())
    assert feats.label_texts == ["", "label Username", "label Username"]
    # columns 0/1: the element's and its label's likeness to the instruction
    assert float(feats.elem_num[1, 1]) == float(feats.elem_num[0, 0])
    assert float(feats.elem_num[0, 1]) == 0.0


def test_a_quotation_mark_neither_starts_nor_ends_a_typed_word() -> None:
    """A password copied as 'qAfD"' fails the task: the quotes delimit the value."""
    instruction = 'Enter the password "qAfD" into both fields.'
    _, offsets = text_encoder().tokens(instruction)
    cols = token_features(instruction, offsets, [], [])
    pieces = [(instruction[a:b], bool(c[WORD_START]), bool(c[WORD_END])) for (a, b), c in zip(offsets, cols)]
    assert pieces[3:8] == [('"', False, False), ("q", True, False), ("Af", False, False), ("D", False, True), ('"', False, False)]
