"""Decoding the policy's outputs into an action."""

from __future__ import annotations

import pytest
import torch

from demoforge.dataset.actions import OPS
from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import (
    StepFeatures,
    elsewhere_pieces,
    featurize,
    field_name_pieces,
    picked_pieces,
    waiting_pieces,
)
from demoforge.learn.model import Ensemble, Policy, PolicyConfig, collate, label_context

INSTRUCTION = 'Enter the password "d8W" into both text fields.'


def field_step(instruction: str, field: Element) -> tuple[StepFeatures, list[str]]:
    """A page of one field, featurized, and the instruction's word pieces."""
    step = featurize(instruction, DomSnapshot(elements=[field]), [], text_encoder())
    return step, [instruction[a:b] for a, b in step.offsets]


def spans_of(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """(1, T, T) span scores that are a start's score plus an end's, as ``Policy.span_logits`` returns them."""
    spans = start[:, :, None] + end[:, None, :]
    return spans.masked_fill(~torch.ones_like(spans, dtype=torch.bool).triu(), float("-inf"))


def typed_by(
    monkeypatch, instruction: str, step: StepFeatures, starts: dict[int, float], ends: dict[int, float],
    numbers: list[tuple[set[int], torch.Tensor]] | None = None, **avoided: list[torch.Tensor],
) -> str:
    """What the policy types when its network's raw span scores are these (-5 at every other
    piece); ``avoided`` names the word pieces a typed value holds none of (``Ensemble.decide``)."""
    policy = Policy(PolicyConfig())

    def span_logits(batch, target, h_target, g):
        start, end = torch.full((1, len(step.offsets)), -5.0), torch.full((1, len(step.offsets)), -5.0)
        for scores, preferred in ((start, starts), (end, ends)):
            for piece, score in preferred.items():
                scores[0, piece] = score
        return spans_of(start, end)

    monkeypatch.setattr(policy, "span_logits", span_logits)
    return typed_alone(policy, instruction, step, numbers, **avoided)


def typed_alone(
    policy: Policy, instruction: str, step: StepFeatures, numbers: list[tuple[set[int], torch.Tensor]] | None = None,
    **avoided: list[torch.Tensor],
) -> str:
    """The text ``policy`` types into the step's first element, deciding alone on ``step``."""
    def typing_first(h: torch.Tensor, g: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = torch.full((*mask.shape, len(OPS)), float("-inf"))
        logits[0, 0, OPS.index("type")] = 0.0
        return logits

    policy.action_logits = typing_first  # only a decision that types scores spans
    batch = collate([step], text_encoder())
    s, e = Ensemble([policy]).decide(batch, numbers=numbers, **avoided)[0]["span"]
    return instruction[step.offsets[s][0] : step.offsets[e][1]]


def test_a_copied_span_is_made_of_whole_words(monkeypatch) -> None:
    field = Element(ref=1, tag="input", input_type="password", masked=True, box=Box(x=0, y=0, width=90, height=20))
    step, pieces = field_step(INSTRUCTION, field)
    first, last = pieces.index("d"), pieces.index("8")  # "d8W" is "d", "8", "w" pieces
    assert INSTRUCTION[step.offsets[first][0] : step.offsets[last + 1][1]] == "d8W"
    # The network's raw preference: the cut-off "d8".
    assert typed_by(monkeypatch, INSTRUCTION, step, {first: 5.0}, {last: 5.0, last + 1: 4.0}) == "d8W"


def test_a_number_field_is_given_the_instruction_s_number_not_a_word(monkeypatch) -> None:
    """A word typed into a number field leaves it empty: the agent stopped typing after it."""
    instruction = "Guess the number between 0-9 and press Submit."
    field = Element(ref=1, tag="input", input_type="number", box=Box(x=0, y=0, width=90, height=20))
    step, pieces = field_step(instruction, field)
    the, nine = pieces.index("the"), pieces.index("9")
    prefers = ({the: 5.0, nine: 4.0}, {the: 5.0, nine: 4.0})  # the network's raw preference: "the"
    assert typed_by(monkeypatch, instruction, step, *prefers) == "the"
    digits = torch.tensor([p.isdigit() for p in pieces])
    assert typed_by(monkeypatch, instruction, step, *prefers, numbers=[({0}, digits)]) == "9"
    # Not a number field: the rule does not apply.
    assert typed_by(monkeypatch, instruction, step, *prefers, numbers=[(set(), digits)]) == "the"


def test_a_copied_span_stays_inside_its_quotation_marks(monkeypatch) -> None:
    """'qAfD" into' is made of whole words, yet typing it fails the task."""
    instruction = 'Enter the password "qAfD" into both text fields.'
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    first, into = pieces.index("q"), pieces.index("into")
    # The network's raw preference runs past the closing quote; "D" is second.
    assert typed_by(monkeypatch, instruction, step, {first: 5.0}, {into: 5.0, into - 2: 3.0}) == "qAfD"


@pytest.mark.parametrize(
    ("instruction", "preferred", "typed"),
    [
        ('Enter the password "Oiy" into both text fields.', "password", "Oiy"),  # a quoted value is there: it is typed
        ("Enter the password Oiy into both text fields.", "password", "password"),  # none is: the preference stands
    ],
)
def test_when_the_instruction_quotes_a_value_that_value_is_typed(monkeypatch, instruction, preferred, typed) -> None:
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    word = pieces.index(preferred)  # the network's raw preference: the word by the label
    assert typed_by(monkeypatch, instruction, step, {word: 5.0}, {word: 5.0}) == typed


def labelled_fields(*labels: str) -> list[Element]:
    """A form of text fields, each just below its label, 40 px from one label to the next."""
    out = []
    for k, label in enumerate(labels):
        out.append(Element(ref=2 * k + 1, tag="div", text=label, box=Box(x=0, y=40 * k, width=90, height=10)))
        out.append(Element(ref=2 * k + 2, tag="input", input_type="text", box=Box(x=0, y=40 * k + 10, width=90, height=20)))
    return out


def test_a_value_is_read_by_the_words_before_it_that_echo_the_fields_label() -> None:
    """"from year 1994": for the field labelled Year, the piece after "year" stands out."""
    instruction = "Search for adventure movies directed by Stuart from year 1994."
    encoder = text_encoder()
    elements = labelled_fields("Year", "Director Name")
    step = featurize(instruction, DomSnapshot(elements=elements), [], encoder)
    context = label_context(collate([step, step], encoder), torch.tensor([1, 3]))  # the Year field, the Director Name field
    pieces = [instruction[a:b] for a, b in step.offsets]
    before_label = context[:, :, 9]  # the pieces before each piece, against the field's label before it
    assert pieces[int(before_label[0].argmax())] == "1994"
    assert pieces[int(before_label[1, : pieces.index("from")].argmax())] in ("by", "Stuart")
    assert context.shape == (2, len(pieces), 24)
    assert torch.equal(context[:, :, 11], before_label)  # its nearer label is the one above it
    # By stems: "directed" echoes "Director", so the piece after it is the Director Name
    # field's value by its label before; "year" echoes "Year". The sentence vectors of
    # the two words differ; their first letters do not.
    stem_before = context[:, :, 13]
    assert stem_before[1, pieces.index("by")] == 1 and stem_before[1, pieces.index("directed")] == 0
    assert stem_before[0, pieces.index("1994")] == 1 and stem_before[0, pieces.index("by")] == 0
    assert torch.equal(context[:, :, 15], stem_before)  # the nearer label's stems are those before
    assert context[:, :, 4].sum() == 0  # an input has no words of its own

    # The same form with each label below its field: the nearer label is the one after.
    below = [e.model_copy(update={"box": e.box.model_copy(update={"y": e.box.y + (20 if e.text else -10)})}) for e in elements]
    below = [below[1], below[0], below[3], below[2]]
    step = featurize(instruction, DomSnapshot(elements=below), [], encoder)
    context = label_context(collate([step], encoder), torch.tensor([0]))  # the Year field, above its label
    assert torch.equal(context[:, :, 11], context[:, :, 10])
    assert torch.equal(context[:, :, 15], context[:, :, 14])
    assert pieces[int(context[0, :, 11].argmax())] == "1994"


def test_of_two_labels_echoed_before_a_value_the_nearer_word_counts_more() -> None:
    """"action movies directed by Carr": "movies" echoes "Movie Genre" and "directed"
    echoes "Director Name", both within the window before "Carr"; "directed" is nearer,
    so Carr reads as the director's name more than as the genre."""
    instruction = "Search for action movies directed by Carr from year 1994."
    encoder = text_encoder()
    elements = labelled_fields("Movie Genre", "Director Name")
    step = featurize(instruction, DomSnapshot(elements=elements), [], encoder)
    context = label_context(collate([step, step], encoder), torch.tensor([1, 3]))  # genre field, director field
    pieces = [instruction[a:b] for a, b in step.offsets]
    carr, action = pieces.index("by") + 1, pieces.index("action")
    stem_before, stem_following = context[:, :, 13], context[:, :, 21]
    assert stem_before[1, carr] > stem_before[0, carr] > 0
    assert stem_following[0, action] == 1  # "movies" right after "action" echoes Movie Genre


def test_an_ensemble_takes_the_choice_its_members_favour_together(monkeypatch) -> None:
    """One member slightly prefers the first field and the word "red"; the other strongly
    prefers the second field and "blue": together they take the second field and "blue",
    and each alone decides as it would outside the ensemble."""
    instruction = "Type red or blue."
    encoder = text_encoder()
    fields = [Element(ref=k, tag="input", box=Box(x=0, y=30 * k, width=90, height=20)) for k in (1, 2)]
    step = featurize(instruction, DomSnapshot(elements=fields), [], encoder)
    pieces = [instruction[a:b] for a, b in step.offsets]
    red, blue = pieces.index("red"), pieces.index("blue")
    type_op = OPS.index("type")

    def member(first_field: float, second_field: float, red_score: float, blue_score: float) -> Policy:
        policy = Policy(PolicyConfig())

        def action_logits(h, g, mask):
            logits = torch.full((1, 2, len(OPS)), -20.0)
            logits[0, 0, type_op], logits[0, 1, type_op] = first_field, second_field
            return logits

        def span_logits(batch, target, h_target, g):
            scores = torch.full((1, len(pieces)), -20.0)
            scores[0, red], scores[0, blue] = red_score, blue_score
            return spans_of(scores, scores)

        monkeypatch.setattr(policy, "action_logits", action_logits)
        monkeypatch.setattr(policy, "span_logits", span_logits)
        return policy

    def typed(decision: dict) -> str:
        s, e = decision["span"]
        return instruction[step.offsets[s][0] : step.offsets[e][1]]

    mild, firm = member(0.4, 0.0, 0.4, 0.0), member(0.0, 3.0, 0.0, 3.0)
    batch = collate([step], encoder)
    alone = Ensemble([mild]).decide(batch)[0]
    assert (alone["target"], alone["op"], typed(alone)) == (0, "type", "red")
    together = Ensemble([mild, firm]).decide(batch)[0]
    assert (together["target"], together["op"], typed(together)) == (1, "type", "blue")
    assert Ensemble([mild, mild]).decide(batch)[0] == alone


def test_a_quoted_value_is_typed_whole(monkeypatch) -> None:
    """The network starts the span one word late; what is typed is the whole quoted reply."""
    instruction = 'Find the email by Meggy and reply to them with the text "Justo, erat quis sagittis.".'
    step, pieces = field_step(instruction, Element(ref=1, tag="textarea", box=Box(x=0, y=0, width=90, height=40)))
    erat, last = pieces.index("era"), len(pieces) - 3  # "erat" is "era", "t"; the final "." inside the quotes
    assert pieces[last:] == [".", '"', "."]
    starts = {erat: 5.0, pieces.index("Just"): 2.0}
    assert typed_by(monkeypatch, instruction, step, starts, {last: 5.0}) == "Justo, erat quis sagittis."


def test_a_span_is_scored_whole() -> None:
    """Its length counts as well as its two ends: where the start scores favour
    "action" and the end scores "Haney", a policy that has learnt that values
    are one word long types one of them, not 'action movies directed by Haney'."""
    instruction = "Search for action movies directed by Haney from year 1971."
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    action, haney = pieces.index("action"), pieces.index("ey")  # "Haney" is "Han", "ey"
    policy = Policy(PolicyConfig()).eval()
    batch = collate([step], text_encoder())
    h, g = policy.encode(batch)
    spans = policy.span_logits(batch, torch.tensor([0]), h[:, 0], g)[0]
    assert spans.shape == (len(pieces), len(pieces))
    before = torch.ones_like(spans, dtype=torch.bool).tril(-1)  # spans that end before they start
    assert torch.isinf(spans[before]).all() and torch.isfinite(spans[~before]).all()

    network = policy.span_logits
    preferred = torch.zeros(len(pieces), len(pieces))  # starts at "action", ends at "Haney"
    preferred[action, :] += 20.0
    preferred[:, haney] += 20.0
    policy.span_logits = lambda b, target, h_target, g: network(b, target, h_target, g) + preferred
    assert typed_alone(policy, instruction, step) == "action movies directed by Haney"
    with torch.no_grad():
        policy.span_len.weight[0] = 30.0  # values are one piece long, as "action" is
    assert typed_alone(policy, instruction, step) == "action"


@pytest.mark.parametrize(
    ("op", "favour", "key"),
    [
        ("click", {"Enter": 3.0, "Control": 2.0, "": 1.0, "Tab": 0.0}, "Control"),
        ("press", {"": 3.0, "Control": 2.0, "Tab": 1.0, "Enter": 0.0}, "Tab"),
    ],
)
def test_a_click_holds_only_modifiers_and_a_press_presses_a_key(
    monkeypatch, op: str, favour: dict[str, float], key: str
) -> None:
    """Whatever the key head favours, a click holds modifiers or nothing, and a press
    presses a key, never a modifier alone or nothing."""
    step, _ = field_step("Pick both.", Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    policy = Policy(PolicyConfig(keys=["", "Control", "Enter", "Tab"]))

    def action_logits(h, g, mask):
        logits = torch.full((1, 1, len(OPS)), -20.0)
        logits[0, 0, OPS.index(op)] = 5.0
        return logits

    monkeypatch.setattr(policy, "action_logits", action_logits)
    with torch.no_grad():
        policy.key_head.weight.zero_()
        policy.key_head.bias.copy_(torch.tensor([favour[k] for k in policy.cfg.keys]))
    decision = Ensemble([policy]).decide(collate([step], text_encoder()))[0]
    assert (decision["op"], decision["key"]) == (op, key)


def test_a_copied_span_never_holds_a_field_name_the_instruction_writes_with_a_colon(monkeypatch) -> None:
    """The head once typed "GYY to: Sand Point, AK" into the From field: its start and its
    end were each the best for the field, and whole words."""
    instruction = "Book the cheapest one-way flight from: GYY to: Sand Point, AK on 11/20/2016."
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    names = field_name_pieces(instruction, step.offsets)
    assert [p for p, n in zip(pieces, names) if n] == ["from", ":", "to", ":"]
    gyy, ak = pieces.index("G"), pieces.index("AK")
    prefers = ({gyy: 5.0}, {ak: 5.0, gyy + 2: 4.0})  # the raw preference runs over "to:"
    assert typed_by(monkeypatch, instruction, step, *prefers) == "GYY to: Sand Point, AK"
    assert typed_by(monkeypatch, instruction, step, *prefers, field_names=[names]) == "GYY"
    # A colon inside a number is no field name.
    other = "Enter 10:30 and press: Submit"
    _, offsets = text_encoder().tokens(other)
    assert [other[a:b] for (a, b), n in zip(offsets, field_name_pieces(other, offsets)) if n] == ["press", ":"]


def test_a_copied_span_leaves_out_the_name_of_what_was_clicked_before(monkeypatch) -> None:
    """The head typed the sender's name into the forward field: both names scored well,
    and the sender's is the one the email was opened by (its label, when clicked)."""
    instruction = "Forward to Sibylla the email that Orsola sent you."
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    picked = picked_pieces(instruction, step.offsets, {"orsola", "duis", "the"})
    assert [p for p, n in zip(pieces, picked) if n] == ["the", "Or", "sol", "a"]
    prefers = ({pieces.index("Or"): 5.0, pieces.index("Si"): 4.0}, {pieces.index("a"): 5.0, pieces.index("lla"): 4.0})
    assert typed_by(monkeypatch, instruction, step, *prefers) == "Orsola"
    assert typed_by(monkeypatch, instruction, step, *prefers, picked=[picked]) == "Sibylla"


def test_only_a_decision_that_types_scores_spans() -> None:
    """In a batch where one decision clicks and the other types, the click carries no
    span and the typing one is scored alone: the same span as deciding it by itself."""
    encoder = text_encoder()
    instruction = 'Enter "qAfD" into the field.'
    field = Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20))
    steps = [featurize(instruction, DomSnapshot(elements=[field]), [], encoder) for _ in range(2)]
    policy = Policy(PolicyConfig()).eval()
    chosen = {0: "click", 1: "type"}

    def action_logits(h: torch.Tensor, g: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = torch.full((*mask.shape, len(OPS)), float("-inf"))
        for row in range(mask.shape[0]):
            logits[row, 0, OPS.index(chosen[row] if mask.shape[0] > 1 else "type")] = 0.0
        return logits

    scored: list[int] = []
    network = policy.span_logits

    def span_logits(b, target, h_target, g):
        scored.append(len(target))
        return network(b, target, h_target, g)

    policy.action_logits, policy.span_logits = action_logits, span_logits
    click, typing = Ensemble([policy]).decide(collate(steps, encoder))
    assert (click["op"], click["span"]) == ("click", None)
    assert typing["op"] == "type" and scored == [1]
    assert typing == Ensemble([policy]).decide(collate(steps[1:], encoder))[0]


@pytest.mark.parametrize(("typed", "value"), [
    ([], "My"),  # "My" not typed yet: "nmar" waits its turn
    (["my"], "nmar"),  # begun, in any case: the head's preference stands
])
def test_a_copied_span_waits_for_the_values_quoted_before_it(monkeypatch, typed: list[str], value: str) -> None:
    """The head typed the value an item ends with for "starts with ... and ends with":
    people type quoted values in the instruction's order."""
    instruction = 'Enter an item that starts with "My" and ends with "nmar".'
    step, pieces = field_step(instruction, Element(ref=1, tag="input", box=Box(x=0, y=0, width=90, height=20)))
    waiting = waiting_pieces(instruction, step.offsets, typed)
    prefers = ({pieces.index("nm"): 5.0, pieces.index("My"): 4.0}, {pieces.index("ar"): 5.0, pieces.index("My"): 4.0})
    assert typed_by(monkeypatch, instruction, step, *prefers) == "nmar"
    assert typed_by(monkeypatch, instruction, step, *prefers, waiting=[waiting]) == value


@pytest.mark.parametrize(("instruction", "typed", "waiting"), [
    ('{"Departure City":"Los Angeles","Destination City":"Seattle"}', [], ['"', "Seattle", '"']),  # names are no values
    ('{"Departure City":"Los Angeles","Destination City":"Seattle"}', ["lax"], ['"', "Seattle", '"']),  # a code is not the city
    ('{"Departure City":"Los Angeles","Destination City":"Seattle"}', ["Los"], []),
    ('Enter "ann" as the username and "ann" as the password.', [], []),  # the same value again waits for nothing
])
def test_which_quoted_values_wait_their_turn(instruction: str, typed: list[str], waiting: list[str]) -> None:
    _, offsets = text_encoder().tokens(instruction)
    assert [instruction[a:b] for (a, b), w in zip(offsets, waiting_pieces(instruction, offsets, typed)) if w] == waiting


def form(*labels: str) -> list[Element]:
    """Fields, each with its label just below it (multi-layouts draws some forms so)."""
    return [
        Element(ref=2 * k + d + 1, tag=("input", "div")[d], text=(None, label)[d],
                box=Box(x=0, y=40 * k + 20 * d, width=90, height=(20, 11)[d]))
        for k, label in enumerate(labels) for d in (0, 1)
    ]


@pytest.mark.parametrize(("labels", "elsewhere"), [
    # Beside "directed" (the director's), for the genre's field; beside "movies" (the genre's), for the director's.
    (("Movie Genre", "Director Name"), [["movies", "by", "Carr"], [], ["saga", "directed"], []]),
    # "Genre" echoed nowhere: the words beside no echo at all are its field's, not the others'.
    (("Director", "Genre", "Year"), [
        ["Search", "for", "saga", "directed", "from", "year", "2014"], [],
        ["movies", "by", "Carr", "from", "2014"], [],
        ["Search", "for", "saga", "movies", "directed", "by", "Carr", "year"], [],
    ]),
])
def test_which_words_are_another_field_s_value(labels: tuple[str, ...], elsewhere: list[list[str]]) -> None:
    instruction = "Search for saga movies directed by Carr from year 2014."
    _, offsets = text_encoder().tokens(instruction)
    rows = elsewhere_pieces(form(*labels), instruction, offsets)
    assert [[instruction[a:b] for (a, b), e in zip(offsets, row) if e] for row in rows] == elsewhere


@pytest.mark.parametrize(("labels", "typed"), [
    (("Movie Genre", "Director Name"), "saga"),  # "Carr" stands beside "directed"
    (("Director", "Genre", "Year"), "Carr"),  # "saga" is the genre's, by elimination
])
def test_a_copied_span_leaves_out_another_field_s_value(monkeypatch, labels: tuple[str, ...], typed: str) -> None:
    """The head typed the director's name into the field labelled "Movie Genre", and the
    genre into the one labelled "Director"."""
    instruction = "Search for saga movies directed by Carr from year 2014."
    page = form(*labels)
    step = featurize(instruction, DomSnapshot(elements=page), [], text_encoder())
    pieces = [instruction[a:b] for a, b in step.offsets]
    wrong = "saga" if typed == "Carr" else "Carr"
    prefers = ({pieces.index(wrong): 5.0, pieces.index(typed): 4.0}, {pieces.index(wrong): 5.0, pieces.index(typed): 4.0})
    assert typed_by(monkeypatch, instruction, step, *prefers) == wrong
    elsewhere = elsewhere_pieces(page, instruction, step.offsets)
    assert typed_by(monkeypatch, instruction, step, *prefers, elsewhere=[elsewhere]) == typed
