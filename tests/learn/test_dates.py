"""Reading a calendar: how the month it shows stands to the date asked for."""

from __future__ import annotations

import pytest

from demoforge.agent.actuate import perform
from demoforge.capture.browser import launch_browser
from demoforge.dataset.actions import Action
from demoforge.evaluate.miniwob_env import MiniWoBEnv
from demoforge.events import Box, Element
from demoforge.learn.dates import N_DATE_ELEMENT, N_DATE_GLOBAL, Date, date_features, named_date, shown_month
from demoforge.learn.features import visible_elements


def element(ref: int, text: str | None, tag: str = "span") -> Element:
    return Element(ref=ref, tag=tag, text=text, box=Box(x=ref * 15, y=80, width=14, height=14))


def calendar(month: str, year: str, days: int = 31) -> list[Element]:
    """The elements of a jQuery UI date picker, in its document order."""
    head = [element(1, "Prev"), element(2, "Next"), element(3, month), element(4, year), element(5, "Su")]
    return head + [element(10 + d, str(d), tag="a") for d in range(1, days + 1)]


def test_an_instructions_date_is_read_in_either_way_it_is_written() -> None:
    assert named_date("Select 12/04/2016 as the date and hit submit.") == Date(2016, 12, 4)
    assert named_date("Book it for March 24th, 2016 please") == Date(2016, 3, 24)
    assert named_date("Book it for Mar. 3 2017") == Date(2017, 3, 3)
    assert named_date("Enter 13/40/2016 or Smarch 3, 2016") is None  # numbers that are no date
    assert named_date("Click the 3rd button") is None


def test_the_month_shown_is_read_with_the_year_written_next_to_it() -> None:
    assert shown_month(calendar("December", "2016")) == (12, 2016)
    assert shown_month([element(1, "Sep 2015")]) == (9, 2015)
    assert shown_month([element(1, "May the force"), element(2, "Maybe")]) is None


def test_the_calendar_says_which_way_to_step_and_which_day_to_click() -> None:
    page = calendar("December", "2016")
    glob, rows = date_features(page, "Select 03/24/2016 as the date and hit submit.")
    assert len(glob) == N_DATE_GLOBAL and all(len(r) == N_DATE_ELEMENT for r in rows)
    assert glob == [1.0, 0.0, 1.0, 0.0, 9 / 12]  # shown, not this month, back nine months
    _, rows = date_features(page, "Select 12/04/2016 as the date and hit submit.")
    by_text = {e.text: r for e, r in zip(page, rows)}
    assert by_text["December"] == [1.0, 0.0]
    assert by_text["4"] == [0.0, 1.0]
    assert by_text["12"] == [0.0, 0.0]  # the month's number is not the day
    glob, _ = date_features(page, "Select 12/04/2016 as the date and hit submit.")
    assert glob == [1.0, 1.0, 0.0, 0.0, 0.0]
    glob, _ = date_features(calendar("January", "2016"), "Select 12/04/2015 as the date")
    assert glob == [1.0, 0.0, 1.0, 0.0, 1 / 12]  # across the turn of the year


def test_without_a_date_or_a_calendar_nothing_is_said() -> None:
    glob, rows = date_features(calendar("May", "2016"), "Click on the 4th item")
    assert glob == [0.0] * N_DATE_GLOBAL and all(r == [0.0, 0.0] for r in rows)
    glob, rows = date_features([element(1, "4")], "Select 12/04/2016 as the date")
    assert glob == [0.0] * N_DATE_GLOBAL and rows == [[0.0, 1.0]]
    _, rows = date_features([element(1, "²"), element(2, "٤")], "Select 12/04/2016 as the date")
    assert rows == [[0.0, 0.0], [0.0, 1.0]]  # a superscript is no day (and no crash); an Arabic-Indic 4 is


@pytest.mark.browser
def test_a_live_date_picker_is_read_as_it_steps_back() -> None:
    """MiniWoB++'s jQuery UI picker, opened and stepped back by real clicks: the features
    follow the month it shows, read from the same snapshots the agent acts on."""
    with launch_browser() as browser:
        env = MiniWoBEnv(browser, "choose-date")
        try:
            obs = env.reset("test-dates:0")
            wanted = named_date(obs.instruction)
            assert wanted is not None

            def look() -> tuple[list[Element], list[float]]:
                elements = visible_elements(env.observe().snapshot)
                return elements, date_features(elements, obs.instruction)[0]

            def click(text: str | None, tag: str | None = None) -> None:
                elements, _ = look()
                e = next(e for e in elements if (e.text == text) and (tag is None or e.tag == tag))
                x, y = e.box.middle()
                perform(env.page, Action(op="click", ref=e.ref, x=x, y=y), env.observe().snapshot)

            elements, _ = look()
            field = next(e for e in elements if e.tag == "input")
            perform(env.page, Action(op="click", ref=field.ref, x=field.box.middle()[0], y=field.box.middle()[1]), env.observe().snapshot)
            elements, glob = look()
            month, year = shown_month(elements) or (0, 0)
            away = (wanted.year - (year or 0)) * 12 + wanted.month - month
            assert glob[0] == 1.0 and glob[1:4] == [float(away == 0), float(away < 0), float(away > 0)]
            for _ in range(abs(away)):
                click("Prev" if away < 0 else "Next")
            elements, glob = look()
            assert glob[:4] == [1.0, 1.0, 0.0, 0.0]
            _, rows = date_features(elements, obs.instruction)
            days = [e for e, r in zip(elements, rows) if r[1]]
            assert [e.text for e in days] == [str(wanted.day)]
            click(str(wanted.day), tag="a")
            env.page.wait_for_timeout(500)  # the picker fades out over the button
            click("Submit")
            assert env.outcome().success
        finally:
            env.close()
