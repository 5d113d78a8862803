"""Superlatives: the amount the instruction asks for, among the amounts of its kind in sight."""

from __future__ import annotations

import pytest

from demoforge.events import Box, DomSnapshot, Element
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import N_SUPERLATIVE, QUOTED_PARTS, featurize, nearness_features
from demoforge.learn.quantities import amount, asked_extreme, superlative


def tickets(durations: list[str], prices: list[int]) -> list[Element]:
    """A ticket list as buy-ticket draws it: per ticket a label, its duration, its button."""
    out = []
    for i, (duration, price) in enumerate(zip(durations, prices)):
        ticket = f"#area > div:nth-of-type({i + 1})"
        y = 60 + 34 * i
        out += [
            Element(ref=10 * i, tag="label", text="Duration:", box=Box(x=5, y=y, width=50, height=12),
                    selector=f"{ticket} > div:nth-of-type(1) > label"),
            Element(ref=10 * i + 1, tag="div", classes="time-duration", text=duration, box=Box(x=60, y=y, width=50, height=12),
                    selector=f"{ticket} > div:nth-of-type(2) > div"),
            Element(ref=10 * i + 2, tag="button", classes="buy-ticket", text=f"Book for ${price:,}",
                    box=Box(x=5, y=y + 13, width=100, height=16), selector=f"{ticket} > button"),
        ]
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Book flight for $1,081", ("money", 1081.0)),
        ("$12.50", ("money", 12.5)),
        ("14h 30m", ("duration", 870.0)),
        ("2h", ("duration", 120.0)),
        ("45 min", ("duration", 45.0)),
        ("42", ("number", 42.0)),
        ("-3", ("number", -3.0)),
        ("From $5 to $9", None),  # two prices: no one amount
        ("Duration:", None),
        ("Flight 42 to LAX", None),
        (None, None),
    ],
)
def test_amount_reads_prices_durations_and_numbers(text: str | None, expected: tuple | None) -> None:
    assert amount(text) == expected


def test_the_superlative_gives_the_end_and_the_kind() -> None:
    assert asked_extreme("Book the cheapest one-way flight from: LAX to: JFK") == ("min", "money")
    assert asked_extreme("Buy the ticket with the most expensive cost.") == ("max", "money")
    assert asked_extreme("Buy the ticket with the longest duration.") == ("max", "duration")
    assert asked_extreme("Click the largest number") == ("max", None)
    assert asked_extreme("Click the most recent email") is None  # "most" alone names no amount
    assert asked_extreme("Book a flight to LAX") is None


def test_cheapest_marks_the_least_price_and_most_expensive_the_greatest() -> None:
    page = tickets(["14h 30m", "21h 43m", "4h 48m", "12h 41m"], [939, 551, 1022, 242])
    marked = superlative(page, "Buy the ticket with the cheapest cost.")
    assert [page[i].text for i, m in enumerate(marked) if m] == ["Book for $242"]
    marked = superlative(page, "Buy the ticket with the most expensive cost.")
    assert [page[i].text for i, m in enumerate(marked) if m] == ["Book for $1,022"]


def test_shortest_marks_the_duration_and_its_ticket_holds_the_button() -> None:
    page = tickets(["14h 30m", "21h 43m", "4h 48m", "12h 41m"], [939, 551, 1022, 242])
    marked = superlative(page, "Buy the ticket with the shortest duration.")
    assert [page[i].text for i, m in enumerate(marked) if m] == ["4h 48m"]
    # The button to press is the one in that duration's ticket, found as the star in a named row is.
    in_group = [g for _, g in nearness_features(page, [True if m else None for m in marked])]
    assert [page[i].text for i, g in enumerate(in_group) if g and page[i].tag == "button"] == ["Book for $1,022"]


def test_nothing_is_marked_without_a_superlative_or_with_one_amount_in_sight() -> None:
    page = tickets(["14h 30m", "4h 48m"], [939, 242])
    assert superlative(page, "Buy the ticket that leaves first.") == [0.0] * len(page)
    lone = tickets(["14h 30m"], [939])
    assert superlative(lone, "Book the cheapest flight.") == [0.0] * len(lone)  # a person scrolls on to compare


def test_amounts_seen_down_the_list_are_compared_too() -> None:
    """A look down the list (``runtime.look_down_amounts``) saw other prices: the lone one
    in sight is marked only when none of them is lower."""
    lone = tickets(["14h 30m"], [242])
    marked = superlative(lone, "Book the cheapest flight.", {"money": {939.0, 242.0, 551.0}})
    assert [lone[i].text for i, m in enumerate(marked) if m] == ["Book for $242"]
    assert superlative(lone, "Book the cheapest flight.", {"money": {939.0, 120.0}}) == [0.0] * len(lone)
    assert superlative(lone, "Book the cheapest flight.", {"duration": {5.0}}) == [0.0] * len(lone)  # another kind


def test_ties_are_all_marked_and_a_kindless_superlative_takes_the_commonest_kind() -> None:
    page = tickets(["2h 0m", "3h 5m", "2h 0m"], [300, 200, 100])
    marked = superlative(page, "Pick the shortest trip")
    assert [page[i].text for i, m in enumerate(marked) if m] == ["2h 0m", "2h 0m"]
    numbers = [Element(ref=i, tag="span", text=t, box=Box(x=0, y=i * 20, width=20, height=15)) for i, t in enumerate(["7", "19", "3", "$5"])]
    assert superlative(numbers, "Click the highest number") == [0.0, 1.0, 0.0, 0.0]


def test_the_policy_reads_the_mark_its_nearness_and_its_group_in_every_row() -> None:
    page = tickets(["14h 30m", "4h 48m"], [939, 242])
    step = featurize("Buy the ticket with the shortest duration.", DomSnapshot(elements=page), [], text_encoder())
    rows = {e.text: r for e, r in zip(page, step.elem_num[:, QUOTED_PARTS - N_SUPERLATIVE : QUOTED_PARTS].tolist())}
    assert rows["4h 48m"] == [1.0, 1.0, 1.0]  # itself: marked, no steps away, in its own group
    assert rows["Book for $242"][0] == 0.0 and rows["Book for $242"][2] == 1.0  # its ticket's button
    assert rows["Book for $939"][2] == 0.0  # the other ticket's button
