"""What the policy is shown of a page: the same view of live and imported snapshots."""

from __future__ import annotations

import math

import pytest
import torch

from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import (
    N_NUMBER,
    N_SUPERLATIVE,
    NEARER_LABEL,
    QUOTE,
    QUOTED_PARTS,
    SHOWN,
    WORD_END,
    WORD_START,
    colour_words,
    counted,
    element_string,
    featurize,
    first_names,
    gap,
    labels,
    match_text,
    mentions,
    mention_contexts,
    named_places,
    nearness_features,
    norm,
    number_against_field,
    page_view,
    quoted_parts,
    stem_matches,
    texts_of,
    token_features,
    visible_elements,
    words,
)
from demoforge.learn.model import collate


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


def test_only_elements_whose_middle_is_in_the_viewport_are_in_sight() -> None:
    """A 2017 dump of a scrolled feed holds the posts below the fold (and jQuery UI's 1 px
    live region at x = -1): the policy is shown what the person saw, as the agent is."""
    posts = [element(ref, "span", text=f"post {ref}") for ref in range(1, 16)]  # y = 20 ... 300
    live_region = Element(ref=20, tag="div", text="Hobbs, NM", box=Box(x=-1, y=100, width=1, height=40))
    snap = DomSnapshot(viewport=Box(x=0, y=0, width=160, height=210), elements=[*posts, live_region])
    assert [e.ref for e in visible_elements(snap)] == list(range(1, 11))  # 10 * 20 + 7.5 is still in
    assert len(visible_elements(snap.model_copy(update={"viewport": None}))) == 16  # no viewport told: no cut


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
    near = nearness_features(rows, first_names(rows, "Find the email by Julietta and click the star icon."))
    stars = [f for e, f in zip(rows, near) if e.classes == "star"]
    assert [flag for _, flag in stars] == [0.0, 1.0, 0.0]
    assert stars[1][0] > stars[0][0] == stars[2][0] > 0
    senders = [f for e, f in zip(rows, near) if e.classes == "email-sender"]
    assert senders[1] == (1.0, 1.0)
    assert nearness_features(rows, first_names(rows, "Click the trash icon.")) == [(0.0, 0.0)] * len(rows)


def test_a_control_is_flagged_only_in_the_named_authors_own_post() -> None:
    """ "Like all posts by @kenda": a "Like" is flagged in @kenda's posts, whether or not
    the posts in sight are all @kenda's, and never in @vel's, even when it is the only
    "Like" in sight. A named "Submit", alone of its look, makes no group."""

    def feed(authors: list[str]) -> list[Element]:
        out = []
        for i, author in enumerate(authors, start=1):
            post = f"#area > div:nth-of-type({i})"
            out += [
                element(10 * i, "span", text=author, classes="username", selector=f"{post} > div:nth-of-type(1) > span"),
                element(10 * i + 1, "span", classes="like", selector=f"{post} > div:nth-of-type(3) > span"),
            ]
        return [*out, element(99, "button", text="Submit", selector="#area > button")]

    instruction = 'Click the "Like" button on all posts by @kenda and then click Submit.'

    def likes(elements: list[Element]) -> list[float]:
        return [g for e, (_, g) in zip(elements, nearness_features(elements, first_names(elements, instruction)))
                if e.classes == "like"]

    assert likes(feed(["@vel", "@kenda", "@vel"])) == [0.0, 1.0, 0.0]
    assert likes(feed(["@kenda", "@kenda"])) == [1.0, 1.0]
    lone_like = feed(["@vel", "@kenda"])
    del lone_like[3]  # @kenda's post is cut by the bottom of the view: its "Like" is out of sight
    assert likes(lone_like) == [0.0]
    submit = feed(["@vel", "@kenda"])[-1:]
    assert nearness_features(submit, first_names(submit, instruction)) == [(1.0, 0.0)]


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
    assert texts_of(instruction, snap) == [
        instruction, "label Username", "input text", "button Login", "enter the _ lana and", "enter the _ lana and",
        "and press _"]
    feats = featurize(instruction, snap, [], text_encoder())
    assert feats.label_texts == ["", "label Username", "label Username"]
    assert feats.after_texts == ["button Login", "button Login", ""]
    # column 0: the element's likeness to the instruction; column 5: its label's
    assert float(feats.elem_num[1, 5]) == float(feats.elem_num[0, 0])
    assert float(feats.elem_num[0, 5]) == 0.0


def test_a_quotation_mark_neither_starts_nor_ends_a_typed_word() -> None:
    """A password copied as 'qAfD"' fails the task: the quotes delimit the value."""
    instruction = 'Enter the password "qAfD" into both fields.'
    _, offsets = text_encoder().tokens(instruction)
    cols = token_features(instruction, offsets, [], [])
    pieces = [(instruction[a:b], bool(c[WORD_START]), bool(c[WORD_END])) for (a, b), c in zip(offsets, cols)]
    assert pieces[3:8] == [('"', False, False), ("q", True, False), ("Af", False, False), ("D", False, True), ('"', False, False)]
    assert [bool(c[QUOTE]) for c in cols[3:8]] == [True, False, False, False, True]
    _, offsets = text_encoder().tokens("Don't stop")
    assert not token_features("Don't stop", offsets, [], [])[:, QUOTE].any()  # an apostrophe is no quotation mark


def test_a_word_written_on_the_page_is_marked_shown() -> None:
    """A name the page shows is marked; one it does not show is not."""
    instruction = "FOrward to Sibylla the email that Orsola sent to me today."
    _, offsets = text_encoder().tokens(instruction)
    inbox = [element(1, "div", text="Orsola"), element(2, "div", text="Duis aenean.")]
    cols = token_features(instruction, offsets, [], inbox)
    shown = [instruction[a:b] for (a, b), c in zip(offsets, cols) if c[SHOWN]]
    assert shown == ["Or", "sol", "a"]  # the word pieces of "Orsola", none of "Sibylla"


def test_a_swatch_is_read_by_the_name_and_family_of_its_colour() -> None:
    assert colour_words("rgb(0, 0, 255)") == "blue"
    assert colour_words("rgb(128, 128, 0)") == "olive yellow"
    # Every shade of a hue shares the plain word a person would use for it.
    shades = ["rgb(228, 206, 206)", "rgb(145, 8, 8)", "rgb(205, 92, 92)", "rgb(178, 34, 34)"]  # hsl(0, 30%, 85%)...
    assert all("red" in words(colour_words(c)) for c in shades)
    assert colour_words("rgba(0, 0, 0, 0)") == "" and colour_words(None) == ""
    swatch = Element(ref=1, tag="div", classes="color", color="rgb(0, 255, 255)", box=Box(x=0, y=0, width=50, height=50))
    assert element_string(swatch) == "div color aqua cyan"


def test_a_textless_element_matches_by_its_classes_only_where_the_instruction_writes_them_whole() -> None:
    """click-menu-2 names an item by its icon; the environment writes the icon as its classes."""
    instruction = "Click the Menu button, and then find and click on the item with the ui-icon ui-icon-play icon."
    play, stop, item = (
        element(1, "span", classes="ui-icon ui-icon-play"),
        element(2, "span", classes="ui-icon ui-icon-stop"),
        element(3, "div", classes="ui-icon-play", text="Save"),
    )
    assert match_text(play, norm(instruction)) == "ui-icon ui-icon-play"
    assert match_text(stop, norm(instruction)) == ""  # shares "ui", "icon": not the same picture
    assert match_text(item, norm(instruction)) == "Save"  # text is what a person reads first
    step = featurize(instruction, DomSnapshot(elements=[play, stop]), [], text_encoder())
    # The element's own match columns, after its similarity: overlap, whole, quoted, has words.
    assert step.elem_num[0, 1:5].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert step.elem_num[1, 1:5].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_the_number_asked_for_is_compared_with_the_number_a_field_holds() -> None:
    """use-spinner: which arrow to click, and when to stop, is a comparison of two numbers."""
    spinner = [element(1, "input", value="0"), element(2, "span", classes="ui-icon-triangle-1-n")]
    assert number_against_field(spinner, "Select 3 with the spinner and hit Submit.") == [1.0, 0.0, 0.0, 0.3]
    assert number_against_field(spinner, "Select -12 with the spinner.") == [0.0, 0.0, 1.0, 1.0]
    assert number_against_field(spinner, "Select 0 with the spinner.") == [0.0, 1.0, 0.0, 0.0]
    # Unread where it is not clear which number, or which field: a range, two fields, a select.
    assert not any(number_against_field(spinner, "Guess the number between 0-9."))
    assert not any(number_against_field(spinner + [element(3, "input", value="7")], "Select 3."))
    assert not any(number_against_field([element(1, "select", value="4")], "Select 3."))
    assert not any(number_against_field([element(1, "input", value="4 apples")], "Select 3."))
    step = featurize("Select 3 with the spinner.", DomSnapshot(elements=spinner), [], text_encoder())
    # In every element's row, where the arrow's own look and place meet it.
    numbers = step.elem_num[:, QUOTED_PARTS - N_SUPERLATIVE - N_NUMBER : QUOTED_PARTS - N_SUPERLATIVE]
    assert numbers.tolist() == [pytest.approx([1.0, 0.0, 0.0, 0.3])] * 2


def test_a_field_reads_the_texts_before_and_after_it_and_how_far_they_are() -> None:
    """Some forms put a field's label below it: the text before it is the last field's."""

    def at(ref: int, tag: str, y: float, **fields: object) -> Element:
        return Element(ref=ref, tag=tag, box=Box(x=10, y=y, width=100, height=18), **fields)

    elements = [at(1, "input", 0), at(2, "div", 18, text="Year"), at(3, "input", 40), at(4, "div", 58, text="Genre")]
    assert labels(elements) == [(None, 1), (None, 3), (1, 3), (1, None)]
    assert gap(elements[2], elements[1]) == 4 and gap(elements[2], elements[3]) == 0
    feats = featurize("Search for saga movies from year 2014", DomSnapshot(elements=elements), [], text_encoder())
    before_gap, after_gap = feats.elem_num[2, 10], feats.elem_num[2, 16]  # log px / 6; 1 when there is none
    assert float(before_gap) == pytest.approx(math.log1p(4) / 6) and float(after_gap) == 0.0
    assert float(feats.elem_num[0, 10]) == 1.0
    # Its own label is the nearer one: after the second field, before the last text.
    assert [float(x) for x in feats.elem_num[:, NEARER_LABEL]] == [-1.0, -1.0, -1.0, 1.0]
    assert float(feats.elem_num[0, 13]) == 1.0  # the text after the first field, "Year", is in the instruction


def test_a_drop_downs_value_is_not_read_as_a_filled_field() -> None:
    """The recordings never carry a select's value; a live drop-down always shows an option."""
    encoder = text_encoder()

    def first_row(tag: str, **fields: object) -> torch.Tensor:
        snap = DomSnapshot(elements=[element(1, tag, **fields), element(2, "button", text="Submit")])
        return featurize("Select Elnora from the list and click Submit.", snap, [], encoder).elem_num[0]

    assert torch.equal(first_row("select", value="Elnora"), first_row("select"))
    assert not torch.equal(first_row("input", value="Elnora"), first_row("input"))


def test_the_element_a_path_names_last_is_marked() -> None:
    """"Select Sibley>Lainey>Brigid" is a click on Brigid: of the menu items the
    instruction names, it is the one named last; an item it does not name is marked
    nowhere, and a name alone on the page is no path's end."""
    items = [element(1, "div", text="Sibley"), element(2, "div", text="Silvana"), element(3, "div", text="Lainey")]
    instruction = "Select Sibley>Lainey>Brigid"

    def named(elements: list[Element]) -> list[tuple[float, float]]:
        return named_places(first_names(elements, instruction), instruction)

    places = named(items)
    assert [last for _, last in places] == [0.0, 0.0, 1.0]  # Brigid's menu is not open yet: Lainey
    assert places[0][0] == instruction.index("Sibley") / len(instruction) and places[1] == (0.0, 0.0)
    brigid = element(4, "div", text="Brigid")
    assert [last for _, last in named([*items, brigid])] == [0.0, 0.0, 0.0, 1.0]
    alone = named(items[:2])  # one name is no path: nothing is last
    assert alone[0] == (instruction.index("Sibley") / len(instruction), 0.0)


def test_an_elements_id_is_not_read() -> None:
    """Nobody sees an id, and grid-coordinate names its points by the answer: the policy
    reads a page whose ids say the coordinates exactly as one with other ids, or none."""
    encoder = text_encoder()
    instruction = "Click on the grid coordinate (1,-2)."

    def read(*ids: str | None) -> tuple[torch.Tensor, list[str]]:
        points = [element(ref, "circle", id=i, classes="plot-point") for ref, i in enumerate(ids, 1)]
        feats = featurize(instruction, DomSnapshot(elements=points), [], encoder)
        return feats.elem_num, feats.elem_texts

    named, texts = read("(0,0)", "(1,-2)")
    assert texts == ["circle plot-point", "circle plot-point"]
    for other in (read("a", "b"), read(None, None)):
        assert torch.equal(named, other[0]) and texts == other[1]


def test_a_named_element_reads_where_the_instruction_names_it() -> None:
    """Both senders are named; the vector each reads is its name's own word pieces, in
    the sentence, and it changes with the part the name plays there."""
    encoder = text_encoder()
    inbox = [
        element(1, "div", text="Devinne", classes="email-sender"),
        element(2, "div", text="Vitae, sapien.", classes="email-subject"),
        element(3, "div", text="Berti", classes="email-sender"),
    ]
    sent_by_berti = "Forward Devinne the message Berti sent you."
    step = featurize(sent_by_berti, DomSnapshot(elements=inbox), [], encoder)
    named = [sent_by_berti[step.offsets[a][0] : step.offsets[b][1]] if a >= 0 else None for a, b in step.mentions.tolist()]
    assert named == ["Devinne", None, "Berti"]
    batch = collate([step], encoder)
    pieces, _ = encoder.tokens(sent_by_berti)
    a, b = step.mentions[2].tolist()
    assert torch.allclose(batch.mention_emb[0, 2], torch.from_numpy(pieces[a : b + 1]).mean(0), atol=1e-6)
    assert not batch.mention_emb[0, 1].any()

    sent_by_devinne = "Forward Berti the message Devinne sent you."
    other = collate([featurize(sent_by_devinne, DomSnapshot(elements=inbox), [], encoder)], encoder)
    as_sender, as_recipient = batch.mention_emb[0, 2], other.mention_emb[0, 2]
    assert torch.cosine_similarity(as_sender, as_recipient, dim=0) < 0.99
    unnamed = "Open the first email."
    assert mentions(first_names(inbox, unnamed), encoder.tokens(unnamed)[1]).tolist() == [[-1, -1]] * 3


def test_a_named_element_reads_the_words_around_its_name() -> None:
    """The same words say a name's part whichever name it is: "from _" is the sender."""
    inbox = [
        element(1, "div", text="Josselyn", classes="email-sender"),
        element(2, "div", text="Vitae, sapien.", classes="email-subject"),
        element(3, "div", text="Pauli", classes="email-sender"),
    ]

    def contexts_in(instruction: str) -> list[str]:
        return mention_contexts(first_names(inbox, instruction), instruction, labels(inbox))

    contexts = contexts_in("Forward the last email from Josselyn to Pauli.")
    assert contexts == ["email from _ to pauli", "email from _ to pauli", "josselyn to _"]  # the subject: its sender's
    assert contexts_in("Forward the last email from Pauli to Josselyn.")[2] == "email from _ to josselyn"
    step = featurize("Forward the last email from Josselyn to Pauli.", DomSnapshot(elements=inbox), [], text_encoder())
    assert step.context_texts == contexts


def test_the_element_at_the_counted_place_of_its_kind_is_marked() -> None:
    page = [element(1, "span", text="Pick one:")]
    page += [element(2 + k, "input", input_type="radio") for k in range(3)]
    page += [element(5 + k, "input", input_type="text") for k in range(3)]
    page += [element(8, "button", text="Submit")]
    # The words after the place say which kind is counted: "radio", "textbox".
    assert counted(page, "Check the 2nd radio button.") == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert counted(page, "Focus into the third input textbox.")[1:7] == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    both = "Select the 3rd radio button, enter 7 into the 1st textbox and press Submit."
    assert counted(page, both) == [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    # Words that name no kind on the page: the place counts in every kind.
    assert counted(page, "Open the last one.") == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    assert counted(page, "Click the 2nd search result.") == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert counted(page, "Check the 0th radio button.") == [0.0] * len(page)  # no place to count to
    assert counted(page, 'Set the seat type to "First" and press Submit.') == [0.0] * len(page)  # a quoted name


def test_a_number_keeps_its_minus_sign() -> None:
    """use-spinner's "Select -5" once matched a spinner showing 5, and the policy pressed
    Submit there: "-5" and "5" are different words, and a field showing one is not named
    by the other. A hyphen between words or digits is no sign."""
    assert words("Select -5 with the spinner") == ["select", "-5", "with", "the", "spinner"]
    assert words("10-20-2017, well-known") == ["10", "20", "2017", "well", "known"]
    five, minus_five = element(1, "input", value="5", text="5"), element(2, "span", text="-5")
    named = first_names([five, minus_five], "Select -5 with the spinner")
    assert named[0] is None and named[1] is not None and named[1].group() == "-5"
    assert first_names([five], "Select 5 now")[0] is not None
    assert first_names([element(3, "span", text="known")], "a well-known name")[0] is not None


def test_a_word_of_the_instruction_echoes_a_label_of_the_same_root() -> None:
    """"departing from" echoes the label "Departure City"; a short word ("to") or a number
    echoes nothing, and each piece of a word reads the whole word's stem ("Ko|tze|bu|e")."""
    elements = [
        Element(ref=1, tag="label", text="Departure City", box=Box(x=0, y=0, width=90, height=10)),
        Element(ref=2, tag="input", input_type="text", box=Box(x=0, y=10, width=90, height=20)),
        Element(ref=3, tag="label", text="To 10 (Kotzebue)", box=Box(x=0, y=40, width=90, height=10)),
        Element(ref=4, tag="button", text="Submit departures", box=Box(x=0, y=70, width=90, height=20)),
    ]
    instruction = "Book a flight departing from Anchorage to 10 Kotzebue"
    offsets = text_encoder().tokens(instruction)[1]
    pieces = [instruction[a:b] for a, b in offsets]
    got = stem_matches(elements, labels(elements), instruction, offsets)
    assert got.shape == (4, len(offsets), 3)
    departing = pieces.index("departing")
    assert got[1, departing].tolist() == [False, True, False]  # the field's label before it
    assert got[3, departing].tolist() == [True, False, False]  # the button's own words
    assert not got[:, pieces.index("to")].any() and not got[:, pieces.index("10")].any()
    kotzebue = [k for k, (a, _) in enumerate(offsets) if a >= instruction.index("Kotzebue")]
    assert len(kotzebue) == 4 and got[2, kotzebue, 0].all()  # the label's own words
    assert got[3, kotzebue, 1].all()  # the button's label before it


def test_a_suggestion_holding_every_quoted_part_of_the_instruction_is_told_apart() -> None:
    """use-autocomplete: "starts with "Ja" and ends with "ca"" is Jamaica, not Japan."""
    instruction = 'Enter an item that starts with "Ja" and ends with "ca".'
    page = [element(1, "div", text="Japan"), element(2, "div", text="Jamaica"), element(3, "button", text="Submit")]
    step = featurize(instruction, DomSnapshot(elements=page), [], text_encoder())
    assert step.elem_num[:, QUOTED_PARTS].tolist() == [0.5, 1.0, 0.0]
    assert quoted_parts("New York City", ["new york"]) == 1.0
    assert quoted_parts("Jamaica", []) == 0.0  # nothing quoted, nothing to hold
