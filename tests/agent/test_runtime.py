"""The agent loop on a live page: a policy trained on recordings of a task does it by real input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from typer.testing import CliRunner

from demoforge.agent.runtime import (
    Agent,
    asked_count,
    hiding,
    into_view,
    item_of,
    observe_still,
    opened,
    opens_under_pointer,
    run_agent,
)
from demoforge.capture import snapshot as snapshots
from demoforge.capture.browser import launch_browser
from demoforge.cli import app
from demoforge.dataset.actions import Action
from demoforge.events import DomSnapshot, Element
from demoforge.learn.features import visible_elements
from demoforge.learn.quantities import Seen, superlative
from demoforge.learn.train import train
from tests.learn.tiny_dataset import make_examples, write_dataset

pytestmark = pytest.mark.browser

FORM = """<!doctype html><body style="margin:0">
<label style="position:absolute;left:5px;top:60px">Text</label>
<input id="t" style="position:absolute;left:5px;top:75px;width:120px">
<button id="s" style="position:absolute;left:10px;top:110px;width:60px;height:20px"
  onclick="window.submitted = document.getElementById('t').value">Submit</button>
</body>"""


#: Opens a page showing the given HTML (the ``open_page`` fixture).
OpenPage = Callable[[str], Page]


@pytest.fixture
def open_page() -> Iterator[OpenPage]:
    """Opens a page showing the given HTML, in a browser of the test's own: Playwright's
    sync API runs one browser per thread, and ``agent run`` launches its own."""
    with launch_browser() as browser:

        def open_(html: str) -> Page:
            page = browser.new_page()
            page.set_content(html)
            return page

        yield open_


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("agent")
    out = root / "model"
    train(write_dataset(root / "ds", make_examples(120)), out, epochs=4, seed=0, show=False)
    return out


def test_agent_fills_and_submits_a_form_it_learned(model: Path, tmp_path: Path, open_page: OpenPage) -> None:
    agent = Agent(model)
    page = open_page(FORM)
    run = run_agent(
        page, agent, 'Enter "zulu42" into the text field and press Submit.', max_steps=6,
        done=lambda: page.evaluate("window.submitted !== undefined"),
    )
    assert page.evaluate("window.submitted") == "zulu42"
    assert run.stopped == "done"
    assert [a.op for a in run.actions] == ["click", "type", "click"]
    assert len(run.step_ms) == 3


def test_agent_run_command_prints_its_actions(model: Path, tmp_path: Path) -> None:
    page = tmp_path / "form.html"
    page.write_text(FORM)
    result = CliRunner().invoke(
        app,
        ["agent", "run", "--model", str(model), "--url", page.as_uri(),
         "--instruction", 'Enter "kilo7" into the text field and press Submit.', "--max-steps", "4"],
    )
    assert result.exit_code == 0, result.output
    assert "type" in result.output and "'kilo7'" in result.output


def test_agent_run_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["agent", "run", "--model", str(tmp_path), "--url", "about:blank", "--instruction", "x"]
    )
    assert result.exit_code != 0 and "demoforge train" in result.output


def test_an_action_that_changed_nothing_is_not_chosen_again(model: Path, open_page: OpenPage) -> None:
    """The field has focus from the start, so the learned first click on it changes nothing:
    the agent must move on to its next choice instead of clicking there forever."""
    agent = Agent(model)
    instruction = 'Enter "zulu42" into the text field and press Submit.'
    page = open_page(FORM.replace('<input id="t"', '<input id="t" autofocus'))
    snap = snapshots.take(page)
    first = agent.decide(instruction, snap, [])
    assert first is not None
    other = agent.decide(instruction, snap, [], frozenset({(first.ref, first.op)}))
    assert other is not None and (other.ref, other.op) != (first.ref, first.op)

    run = run_agent(page, agent, instruction, max_steps=8,
                    done=lambda: page.evaluate("window.submitted !== undefined"))
    assert page.evaluate("window.submitted") == "zulu42"
    assert run.stopped == "done"


def by_id(snap: DomSnapshot, id_: str) -> Element:
    return next(e for e in snap.elements if e.id == id_)


def click_on(e: Element) -> Action:
    """A click 5 px inside ``e``'s top left corner."""
    return Action(op="click", ref=e.ref, x=e.box.x + 5, y=e.box.y + 5)


class Preferring:
    """Stands in for a policy: clicks the first of ``ids`` that the page shows and the
    agent has not ruled out, and notes which it chose and the words it was told it
    had clicked before."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids
        self.clicked: list[str] = []
        self.picked: list[frozenset[str]] = []

    def decide(self, instruction: str, snap: DomSnapshot, history: list[Action],
               ruled_out: frozenset[tuple[int, str]] = frozenset(),
               picked: frozenset[str] = frozenset(), seen: Seen | None = None) -> Action | None:
        self.picked.append(picked)
        shown = {e.id: e for e in snap.elements if e.box.width > 0}
        for id_ in self.ids:
            e = shown.get(id_)
            if e is not None and (e.ref, "click") not in ruled_out:
                self.clicked.append(id_)
                return click_on(e)
        return None


TOGGLE = """<!doctype html><body style="margin:0">
<div id="t" role="button" style="position:absolute;left:0;top:0;width:60px;height:20px"
  onclick="this.textContent = this.textContent === 'On' ? 'Off' : 'On'">Off</div>
<button id="s" style="position:absolute;left:0;top:40px;width:60px;height:20px"
  onclick="window.submitted = true">Submit</button>
</body>"""


def test_an_action_is_not_taken_again_on_a_page_state_it_came_back_to(open_page: OpenPage) -> None:
    """Toggle on, toggle off: the page is as it was, so the agent does something else."""
    page = open_page(TOGGLE)
    policy = Preferring("t", "s")  # it would click the toggle forever
    run = run_agent(page, policy, "Press Submit.", max_steps=6,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.submitted === true"))
    assert run.stopped == "done"
    assert policy.clicked == ["t", "t", "s"]


INBOX = """<!doctype html><body style="margin:0">
<div id="sender" style="position:absolute;left:0;top:0;width:80px;height:20px">Orsola</div>
<div id="subject" style="position:absolute;left:0;top:20px;width:80px;height:20px"
  onclick="this.remove()">Duis aenean.</div>
<div id="other" style="position:absolute;left:0;top:60px;width:80px;height:20px">Sibylla</div>
<button id="s" style="position:absolute;left:0;top:100px;width:60px;height:20px"
  onclick="window.submitted = true">Submit</button>
</body>"""


def test_the_agent_remembers_the_words_of_what_it_clicked(open_page: OpenPage) -> None:
    """Clicking an email's subject picks it by its sender's name, the label above it: the
    next decisions are told those words (a typed value leaves them out), and not those
    of the rows it did not click."""
    page = open_page(INBOX)
    policy = Preferring("subject", "s")
    run_agent(page, policy, "Forward to Sibylla the email that Orsola sent.", max_steps=3,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.submitted === true"))
    assert policy.clicked == ["subject", "s"]
    assert policy.picked[0] == frozenset()
    assert {"orsola", "duis", "aenean"} <= policy.picked[1] and "sibylla" not in policy.picked[1]


SPINNER = """<!doctype html><body style="margin:0">
<input id="n" value="0" style="position:absolute;left:0;top:0;width:60px;height:20px">
<button id="up" style="position:absolute;left:70px;top:0;width:20px;height:10px"
  onclick="document.getElementById('n').value = +document.getElementById('n').value + 1">+</button>
<button id="down" style="position:absolute;left:70px;top:10px;width:20px;height:10px"
  onclick="document.getElementById('n').value = +document.getElementById('n').value - 1">-</button>
</body>"""


def test_a_target_that_moved_the_asked_number_away_is_not_clicked_again(open_page: OpenPage) -> None:
    """A policy that favours the down arrow clicks it once: the field went from 0 to -1,
    away from the 3 asked for, so the agent goes on with the up arrow until it shows 3."""
    page = open_page(SPINNER)
    policy = Preferring("down", "up")
    run = run_agent(page, policy, "Select 3 with the spinner.", max_steps=8,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("document.getElementById('n').value === '3'"))
    assert run.stopped == "done"
    assert policy.clicked == ["down", "up", "up", "up", "up"]


PAGER = """<!doctype html><body style="margin:0"><div id="list"></div>
<button id="s" style="position:absolute;left:0;top:40px;width:60px;height:20px"
  onclick="window.submitted = true">Submit</button>
<script>
  // Each page is drawn anew, as a paged list does: its link is a new node every time.
  function show(n) {
    const id = n === 1 ? "next" : "back";
    document.getElementById("list").innerHTML = '<a id="' + id + '" href="#" onclick="show(' + (3 - n) +
      '); return false" style="position:absolute;left:0;top:0;width:60px;height:20px">' + id + '</a>';
  }
  show(1);
</script></body>"""


def test_a_page_drawn_anew_is_the_page_it_was(open_page: OpenPage) -> None:
    """Next, back: the first page is back with new nodes, and is still a page the agent left by Next."""
    page = open_page(PAGER)
    policy = Preferring("next", "back", "s")
    run = run_agent(page, policy, "Press Submit.", max_steps=6,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.submitted === true"))
    assert run.stopped == "done"
    assert policy.clicked == ["next", "back", "s"]  # not next again


MENU = """<!doctype html><body style="margin:0">
<div id="parent" style="position:absolute;left:0;top:0;width:80px;height:20px"
  onmouseenter="this.className = 'ui-state-active';
    setTimeout(() => { document.getElementById('child').style.display = 'block'; }, 300)"
  onclick="window.clicked = 'parent'">Parent</div>
<div id="child" style="display:none;position:absolute;left:90px;top:0;width:80px;height:20px"
  onclick="window.clicked = 'child'">Child</div>
</body>"""


def test_the_agent_looks_at_what_pointing_opened_before_it_clicks(open_page: OpenPage) -> None:
    """A submenu opens under the resting pointer after a delay, as jQuery UI's do: the
    agent clicks the item in it, not the parent its policy chose on the closed menu."""
    page = open_page(MENU)
    run = run_agent(page, Preferring("child", "parent"), "Choose Child.", max_steps=3,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == "child"
    assert run.stopped == "done" and len(run.actions) == 1


NESTED = """<!doctype html><body style="margin:0"><ul id="menu" style="list-style:none;margin:0;padding:0">
<li id="item"><div id="parent" style="width:80px;height:20px" onclick="window.clicked = 'parent'">Parent
  <span id="caret" style="display:inline-block;width:10px;height:10px"></span></div>
  <ul id="sub" style="display:none;position:absolute;left:90px;top:0;list-style:none;margin:0;padding:0">
    <li><div id="child" style="width:80px;height:20px" onclick="window.clicked = 'child'">Child</div></li></ul></li>
<li><div id="other" style="width:80px;height:20px" onclick="window.clicked = 'other'">Other</div></li>
</ul><script>
  document.getElementById("item").onmouseenter = () => {  // as jQuery UI's menu does
    document.getElementById("parent").className = "ui-state-active";
    setTimeout(() => { document.getElementById("sub").style.display = "block"; }, 300);
  };
</script></body>"""


def test_an_item_is_not_clicked_while_what_pointing_at_it_opened_shows(open_page: OpenPage) -> None:
    """A policy that would take the parent item again on the opened menu, by its caret
    or by its text, clicks into the submenu instead: the parent was a way through, as
    a person's hand passes over it (a jQuery UI menu takes a click on it for a choice)."""
    page = open_page(NESTED)
    snap = snapshots.take(page)
    ids = {e.ref: e.id for e in snap.elements}
    assert {ids[r] for r in item_of(snap, by_id(snap, "caret").ref)} == {"caret", "parent"}
    assert {ids[r] for r in item_of(snap, by_id(snap, "other").ref)} == {"other"}
    policy = Preferring("caret", "parent", "child")
    run = run_agent(page, policy, "Choose Child.", max_steps=3,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == "child"
    assert policy.clicked == ["caret", "child"] and len(run.actions) == 1


MENU_BAR = """<!doctype html><body style="margin:0"><style>.ui-icon { display: inline-block; width: 10px; height: 10px }</style>
<ul style="margin:0;padding:0;list-style:none;width:80px">
<li><div id="save" role="menuitem" style="height:20px" onclick="window.clicked = 'save'"><span class="ui-icon ui-icon-disk"></span>Save</div></li>
<li id="playback"><div role="menuitem" style="height:20px">Playback</div>
  <ul id="sub" style="display:none;position:absolute;left:90px;top:20px;margin:0;padding:0;list-style:none">
    <li><div id="stop" role="menuitem" style="width:80px;height:20px" onclick="window.clicked = 'stop'"><span class="ui-icon ui-icon-stop"></span>Stop</div></li>
  </ul></li>
<li><div id="zoom" role="menuitem" style="height:20px" onclick="window.clicked = 'zoom'"><span class="ui-icon ui-icon-zoomin"></span>Zoom</div></li>
</ul><script>
  window.pointed = [];
  for (const item of document.querySelectorAll("[role=menuitem]")) {
    item.onmouseenter = () => { window.pointed.push(item.textContent); };
  }
  document.getElementById("playback").onmouseenter = () => {  // a submenu opens under a resting pointer
    setTimeout(() => { document.getElementById("sub").style.display = "block"; }, 300);
  };
</script></body>"""


@pytest.mark.parametrize("instruction", [
    'Find and click on the item labeled "Stop".',
    "Find and click on the item with the ui-icon ui-icon-stop icon.",  # the icon, as the environment writes it
])
def test_the_agent_looks_in_menus_for_an_item_out_of_sight(open_page: OpenPage, instruction: str) -> None:
    """Stop is in the Playback submenu, which nothing names: the agent points at the items
    in turn, Playback opens it, and the policy, which would have clicked Zoom on the
    closed menu, clicks Stop."""
    page = open_page(MENU_BAR)
    policy = Preferring("stop", "zoom")
    run = run_agent(page, policy, instruction, max_steps=3,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == "stop"
    assert policy.clicked == ["stop"] and len(run.actions) == 1
    assert page.evaluate("window.pointed") == ["Save", "Playback", "Stop"]  # it stopped looking at Playback


@pytest.mark.parametrize("instruction", [
    'Click on the item labeled "Zoom".',
    "Click on the item with the ui-icon ui-icon-zoomin icon.",
    "Click on the item labeled Stop.",
])
def test_what_is_in_sight_or_not_quoted_is_not_looked_for(open_page: OpenPage, instruction: str) -> None:
    page = open_page(MENU_BAR)
    run_agent(page, Preferring("zoom"), instruction, max_steps=2,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == "zoom"
    assert page.evaluate("window.pointed") == ["Zoom"]


LETTERS = """<!doctype html><body style="margin:0">
<div id="query" style="position:absolute;left:0;top:0;width:200px;height:20px">Click on the item labeled
  "<span id="shown" style="font-weight:bold">x</span>".</div>
<div id="upper" style="position:absolute;left:0;top:40px;width:40px;height:20px" onclick="window.clicked = 'X'">X</div>
<div id="lower" style="position:absolute;left:0;top:70px;width:40px;height:20px" onclick="window.clicked = 'x'">x</div>
</body>"""


@pytest.mark.parametrize(("instruction", "clicked"), [
    ('Click on the item labeled "x".', "x"),  # the policy's "X" gives way to the "x" written as quoted
    ('Click on the item labeled "X".', "X"),
    ("Click on the item labeled x.", "X"),  # nothing quoted: the policy's choice stands
])
def test_a_quoted_value_is_clicked_as_written(open_page: OpenPage, instruction: str, clicked: str) -> None:
    """The policy reads words lower-cased, so "x" and "X" are one item to it; the agent
    clicks the one written as quoted, of the same kind as the policy's choice (not the
    bold "x" in the instruction's own display)."""
    page = open_page(LETTERS)
    run_agent(page, Preferring("upper"), instruction, max_steps=2,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == clicked


TABS = """<!doctype html><body style="margin:0"><style>span { position: absolute; left: 0; width: 60px; height: 20px }</style>
<span id="near" style="top:0" onclick="window.clicked = 'near'">proin.</span>
<span id="tab" style="top:30px" onclick="document.getElementById('exact').style.display = 'block'">Tab #2</span>
<span id="exact" style="top:60px; display:none" onclick="window.clicked = 'exact'">proin</span>
</body>"""


@pytest.mark.parametrize(("instruction", "clicked"), [
    ('Click on the link "proin".', "exact"),  # "proin." is ruled out: the policy opens the tab, then gives way
    ('Click on the link "proin.".', "near"),  # written as quoted: the policy's choice stands
    ("Click on the link proin.", "near"),  # nothing quoted
])
def test_a_near_miss_of_a_quoted_value_is_not_clicked(open_page: OpenPage, instruction: str, clicked: str) -> None:
    """A link "proin." in sight is not the link "proin" the instruction quotes: the agent
    does not click it, the policy's next choice opens a tab, and there its choice of the
    near miss goes to the link written as quoted."""
    page = open_page(TABS)
    run_agent(page, Preferring("near", "tab"), instruction, max_steps=3,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == clicked


PARAGRAPH = """<!doctype html><body style="margin:0">
<div id="area" style="height:100px" onclick="window.clicked = window.clicked || 'area'">Sit
<span onclick="window.clicked = 'near'">odio.</span> <span onclick="window.clicked = 'exact'">odio</span></div>
</body>"""


@pytest.mark.parametrize(("instruction", "clicked"), [
    ('Click on the link "odio".', "exact"),
    ('Click on the link "odio.".', "near"),
    ("Click on the link odio.", "area"),  # nothing quoted: the click lands where it was aimed
])
def test_a_click_on_what_holds_a_quoted_value_goes_to_it(open_page: OpenPage, instruction: str, clicked: str) -> None:
    """The policy chose the paragraph around the quoted link: the click goes to the link."""
    page = open_page(PARAGRAPH)
    run_agent(page, Preferring("area"), instruction, max_steps=1,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == clicked


ICONS = """<!doctype html><body style="margin:0"><style>span { display: block; width: 16px; height: 16px }</style>
<span id="stop" class="ui-icon ui-icon-stop" onclick="window.clicked = 'stop'"></span>
<span id="start" class="ui-icon ui-icon-seek-start" onclick="window.clicked = 'start'"></span>
<span id="one-way" class="trip one-way" onclick="window.clicked = 'one-way'"></span>
</body>"""


@pytest.mark.parametrize(("instruction", "clicked"), [
    ("Click on the item with the ui-icon ui-icon-seek-start icon.", "start"),  # the policy's stop icon gives way
    ("Click on the item with the ui-icon ui-icon-stop icon.", "stop"),
    ("Click on the item with the ui-icon ui-icon-eject icon.", "stop"),  # nothing in sight wears it
    ("Book a one-way trip.", "stop"),  # a hyphenated word the policy's choice does not wear
])
def test_an_icon_is_clicked_as_drawn(open_page: OpenPage, instruction: str, clicked: str) -> None:
    """An icon the instruction draws is written as its classes; the policy reads them as
    words, and a jQuery UI icon ("ui-icon") of another picture gives way to the drawn one."""
    page = open_page(ICONS)
    run_agent(page, Preferring("stop"), instruction, max_steps=2,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == clicked


WIDGETS = """<!doctype html><body style="margin:0">
<input id="box" type="text" onclick="window.clicked = 'box'"><br>
<textarea id="area" onclick="window.clicked = 'area'">s</textarea><br>
<button id="button" onclick="window.clicked = 'button'">text</button>
</body>"""


@pytest.mark.parametrize(("instruction", "clicked"), [
    ('Click on a "textarea" widget.', "area"),  # the policy's text box gives way
    ('Click on a "button" widget.', "button"),
    ('Click on a "radio" widget.', "box"),  # none in sight
    ('Click on the "text" button.', "box"),  # shown as a text: no type
])
def test_a_control_of_the_type_quoted_is_clicked(open_page: OpenPage, instruction: str, clicked: str) -> None:
    """A type of control the instruction quotes by name (its tag or input type) is clicked
    on one of that type, where the policy chose another."""
    page = open_page(WIDGETS)
    run_agent(page, Preferring("box"), instruction, max_steps=1,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == clicked


# The buttons' ids hold a colon, on which no selector anchors (``tree_paths``): the
# buttons of a feed have no ids, and their place in the page is their post's.
POSTS = """<!doctype html><body style="margin:0"><style>span[id] { display: inline-block; width: 16px; height: 16px }</style>
<div><span>@ann</span> <span id="like:1" class="like"></span> <span id="reply:1" class="reply"></span></div>
<div><span>@ann</span> <span id="like:2" class="like"></span> <span id="reply:2" class="reply"></span></div>
<div><span>@ann</span> <span id="like:3" class="like"></span> <span id="reply:3" class="reply"></span></div>
<button id="submit" onclick="window.clicked = [...document.querySelectorAll('.active')].map(e => e.id).join()">Submit</button>
<script>for (const b of document.querySelectorAll("span[id]")) { b.onclick = () => b.classList.add("active"); }</script>
</body>"""


@pytest.mark.parametrize(("instruction", "acted"), [
    ("Click the Like button on 1 post by @ann and then click Submit.", "like:1"),
    ("Click the Like button on 2 posts by @ann and then click Submit.", "like:1,like:2"),
    ("Click the Like button on every post by @ann and then click Submit.", "like:1,reply:1,like:2,like:3"),  # nothing counted
])
def test_the_agent_clicks_as_many_as_the_instruction_counts(open_page: OpenPage, instruction: str, acted: str) -> None:
    """A policy that would like every post, and then reply to some, stops at the count
    asked for: the likes, liked or not, are one kind, and once it has clicked as many as
    asked it clicks no more of them, nor anything else in a post (a reply button)."""
    page = open_page(POSTS)
    run_agent(page, Preferring("like:1", "like:2", "reply:1", "like:3", "submit"), instruction, max_steps=30,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.clicked !== undefined"))
    assert page.evaluate("window.clicked") == acted


@pytest.mark.parametrize(("instruction", "count"), [
    ('Click the "Retweet" button on 3 posts by @scelerisque and then click Submit.', 3),
    ('Click the "Like" button on 1 post by @livia and then click Submit.', 1),
    ("Order 3 items that are dairy", 3),
    ("Select 1 with the slider, click the 2nd checkbox, then hit Submit.", None),  # "with" is no thing
    ("Select 9 with the spinner and hit Submit.", None),
    ("Select 10/21/2016 as the date and hit submit.", None),
    ("Enter 9:27 PM as the time and press submit.", None),
    ("Search for saga movies directed by Carr from year 2014.", None),
    ("Like 2 posts and share 3 posts.", None),  # counted twice: which count is whose is not read
])
def test_what_an_instruction_counts(instruction: str, count: int | None) -> None:
    assert asked_count(instruction) == count


FLIGHTS = """<!doctype html><body style="margin:0">""" + "".join(
    f"""<div style="height:80px"><div>{d}</div>
<button id="{i}" style="width:150px;height:30px" onclick="window.booked = '{i}'">Book flight for ${p}</button></div>"""
    for i, d, p in [("f1", "3h 10m", 300), ("f2", "5h 0m", 250), ("f3", "9h 0m", 420), ("f4", "2h 0m", 120), ("f5", "1h 5m", 180)]
) + "</body>"


class Marked:
    """Stands in for a policy: clicks the button the superlative marks, or the one after the
    amount it marks (its flight's), else the first button in sight, and notes what it
    was told it had seen."""

    def __init__(self) -> None:
        self.seen: list[Seen | None] = []

    def decide(self, instruction: str, snap: DomSnapshot, history: list[Action],
               ruled_out: frozenset[tuple[int, str]] = frozenset(),
               picked: frozenset[str] = frozenset(), seen: Seen | None = None) -> Action | None:
        self.seen.append(seen)
        elements = visible_elements(snap)
        marks = superlative(elements, instruction, seen)
        first_marked = marks.index(1.0) if 1.0 in marks else 0
        return next((click_on(e) for e in elements[first_marked:] if e.tag == "button"), None)


@pytest.mark.parametrize(("instruction", "booked"), [
    ("Book the cheapest flight.", "f4"),
    ("Book the most expensive flight.", "f3"),
    ("Book the shortest flight.", "f5"),
    ("Book the flight.", "f1"),  # nothing to compare: no look down
])
def test_the_agent_looks_down_a_list_before_choosing_its_extreme_amount(
    open_page: OpenPage, instruction: str, booked: str
) -> None:
    """One flight shows at a time: the agent turns the wheel down the list, notes every
    price and duration, turns back to the one asked for, and the policy, told what was
    seen, books it where it now shows."""
    page = open_page(FLIGHTS)
    page.set_viewport_size({"width": 200, "height": 120})
    policy = Marked()
    run_agent(page, policy, instruction, max_steps=2,  # type: ignore[arg-type]
              done=lambda: page.evaluate("window.booked !== undefined"))
    assert page.evaluate("window.booked") == booked
    assert policy.seen[0] == ({"duration": {190.0, 300.0, 540.0, 120.0, 65.0}, "money": {300.0, 250.0, 420.0, 120.0, 180.0}}
                              if booked != "f1" else {})


HIGHLIGHT = """<!doctype html><body style="margin:0">
<button id="b" style="position:absolute;left:0;top:0;width:80px;height:20px"
  onmouseenter="this.className = 'lit'" onclick="window.clicked = 'b'">Like</button>
</body>"""


def test_a_target_that_only_lights_up_when_pointed_at_is_clicked(open_page: OpenPage) -> None:
    """A class put on by pointing changes how the button looks and opens nothing: it stays clickable."""
    page = open_page(HIGHLIGHT)
    snap = snapshots.take(page)
    after = opens_under_pointer(page, click_on(by_id(snap, "b")), snap, snapshots.take)
    assert after is not None and not opened(snap, after)  # the page changed, and showed nothing new
    run = run_agent(page, Preferring("b"), "Like it.", max_steps=3,  # type: ignore[arg-type]
                    done=lambda: page.evaluate("window.clicked !== undefined"))
    assert run.stopped == "done" and len(run.actions) == 1


def test_pointing_at_what_does_not_answer_it_opens_nothing(open_page: OpenPage) -> None:
    page = open_page(TOGGLE)
    snap = snapshots.take(page)
    assert not opens_under_pointer(page, click_on(by_id(snap, "s")), snap, snapshots.take)


PIE = """<!doctype html><body style="margin:0"><svg id="pie" width="200" height="40">
<text id="a" x="10" y="20" onmouseenter="this.parentNode.appendChild(this)">Alpha</text>
<text id="b" x="110" y="20" onmouseenter="this.parentNode.appendChild(this)">Beta</text>
</svg></body>"""


def test_pointing_at_what_is_only_drawn_on_top_opens_nothing(open_page: OpenPage) -> None:
    """A pie menu moves the pointed slice's nodes last, to paint them on top: the page
    then shows what it showed before, in another order, and nothing was opened."""
    page = open_page(PIE)
    snap = snapshots.take(page)
    assert not opens_under_pointer(page, click_on(by_id(snap, "a")), snap, snapshots.take)
    assert [e.id for e in snapshots.take(page).elements if e.tag == "text"] == ["b", "a"]  # it did reorder


LIST_BOX = """<!doctype html><body style="margin:0">
<select id="list" multiple size="3" style="position:absolute;left:0;top:0;width:100px;font-size:14px">
  <option id="o1">One</option><option id="o2">Two</option><option id="o3">Three</option>
  <option id="o4">Four</option><option id="o5">Five</option><option id="o6">Six</option>
  <option id="o7">Seven</option><option id="o8">Eight</option>
</select>
<button id="s" style="position:absolute;left:0;top:60px;width:100px;height:120px"
  onclick="window.submitted = true">Submit</button>
</body>"""


def test_the_agent_brings_an_option_below_the_fold_into_sight_before_clicking_it(open_page: OpenPage) -> None:
    """The option's box lies over the Submit button below the list: the wheel turns over
    the list until it shows, and the click selects it instead of submitting."""
    page = open_page(LIST_BOX)
    snap = snapshots.take(page)
    seven = click_on(by_id(snap, "o7"))
    assert by_id(snap, "s").box.contains(seven.x, seven.y)  # hidden behind the fold
    run = run_agent(page, Preferring("o7"), "Select Seven.", max_steps=1)  # type: ignore[arg-type]
    assert page.evaluate("document.getElementById('list').value") == "Seven"
    assert page.evaluate("window.submitted === undefined")
    assert len(run.actions) == 1


class InTurn:
    """Stands in for a policy: clicks ``ids`` one after the other, then stops."""

    def __init__(self, *ids: str) -> None:
        self.ids = list(ids)

    def decide(self, instruction: str, snap: DomSnapshot, history: list[Action],
               ruled_out: frozenset[tuple[int, str]] = frozenset(),
               picked: frozenset[str] = frozenset(), seen: Seen | None = None) -> Action | None:
        return click_on(by_id(snap, self.ids.pop(0))) if self.ids else None


@pytest.mark.parametrize(
    ("instruction", "selected"),
    [
        ("Select Two, Seven from the list.", ["Two", "Seven"]),  # Two was asked for: it is kept
        ("Select Seven from the list.", ["Seven"]),  # Two was not: Seven replaces it
    ],
)
def test_a_click_adds_to_a_list_boxs_selection_of_named_options(
    open_page: OpenPage, instruction: str, selected: list[str]
) -> None:
    page = open_page(LIST_BOX)
    run = run_agent(page, InTurn("o2", "o7"), instruction, max_steps=2)  # type: ignore[arg-type]
    assert [a.key for a in run.actions] == [None, "Control" if len(selected) == 2 else None]
    assert page.evaluate("[...document.getElementById('list').selectedOptions].map(o => o.text)") == selected


SUBMENU = """<!doctype html><body style="margin:0"><ul style="margin:0;padding:0;list-style:none">
<li id="parent" style="position:relative;width:80px;height:20px">Parent
  <ul style="position:absolute;left:90px;top:0;margin:0;padding:0;list-style:none">
    <li id="child" style="width:80px;height:20px">Child</li></ul></li></ul>
<script>document.addEventListener("mousemove", () => { window.moved = true; });</script></body>"""


def test_a_submenu_beside_its_parent_is_in_sight(open_page: OpenPage) -> None:
    """Outside its parent item's box, but drawn where it is: no wheel turns, no pointer moves."""
    page = open_page(SUBMENU)
    snap = snapshots.take(page)
    child = by_id(snap, "child")
    click = click_on(child)
    assert hiding(snap, child, click.x, click.y) == by_id(snap, "parent").box  # laid out beyond its parent's box
    assert into_view(page, click, snap, snapshots.take) == (click, snap)
    assert page.evaluate("window.moved === undefined")


def test_a_target_in_sight_is_clicked_where_it_is(open_page: OpenPage) -> None:
    page = open_page(LIST_BOX)
    snap = snapshots.take(page)
    click = click_on(by_id(snap, "o2"))
    assert into_view(page, click, snap, snapshots.take) == (click, snap)


CUT_LIST = """<!doctype html><body style="margin:0">
<div id="list" style="position:absolute;left:0;top:0;width:100px;height:45px;overflow:auto">
  <div id="r1" style="height:20px" onclick="window.chosen = 'One'">One</div>
  <div id="r2" style="height:20px" onclick="window.chosen = 'Two'">Two</div>
  <div id="r3" style="height:20px" onclick="window.chosen = 'Three'">Three</div>
  <div id="r4" style="height:20px" onclick="window.chosen = 'Four'">Four</div>
</div>
<button id="s" style="position:absolute;left:0;top:45px;width:100px;height:40px"
  onclick="window.submitted = true">Submit</button>
</body>"""


def test_a_row_half_cut_by_its_lists_edge_is_clicked_on_the_half_in_sight(open_page: OpenPage) -> None:
    """The click's point on the third row lies on the list's edge, inside the list's box
    (nothing to scroll, by the boxes), where the page draws the Submit button below
    the list: a selectric drop-down's third row, clicked at its middle, chose nothing."""
    page = open_page(CUT_LIST)
    snap = snapshots.take(page)
    three = by_id(snap, "r3")
    click = click_on(three)
    assert click.y == 45.0 and hiding(snap, three, click.x, click.y) is None
    moved, _ = into_view(page, click, snap, snapshots.take)
    assert moved.y == 42.5  # the middle of the row's 5 px in sight
    run = run_agent(page, Preferring("r3"), "Choose Three.", max_steps=1)  # type: ignore[arg-type]
    assert page.evaluate("window.chosen") == "Three"
    assert page.evaluate("window.submitted === undefined")
    assert len(run.actions) == 1


COVERED = """<!doctype html><body style="margin:0">
<button id="one" style="position:absolute;left:0;top:0;width:60px;height:20px"
  onclick="window.clicked = 'one'">ONE</button>
<button id="two" style="position:absolute;left:0;top:0;width:40px;height:20px"
  onclick="window.clicked = 'two'">TWO</button>
</body>"""


def test_a_partly_covered_button_is_clicked_on_its_part_in_sight(open_page: OpenPage) -> None:
    """TWO lies over ONE's left two thirds, its middle included (click-test-2 draws its
    two buttons at random places): a click at ONE's middle, or 5 px into its corner,
    would press TWO. A person presses the part of ONE they can see."""
    page = open_page(COVERED)
    snap = snapshots.take(page)
    one = by_id(snap, "one")
    moved, _ = into_view(page, click_on(one), snap, snapshots.take)
    assert 40 <= moved.x <= 60 and 0 <= moved.y <= 20
    run_agent(page, Preferring("one"), "Click button ONE.", max_steps=1)  # type: ignore[arg-type]
    assert page.evaluate("window.clicked") == "one"
    page.set_content(COVERED.replace("width:40px", "width:60px"))  # wholly covered: nothing to find
    snap = snapshots.take(page)
    assert snapshots.where_drawn(page, by_id(snap, "one"), 30, 10) is None


MOVING = """<!doctype html><body style="margin:0">
<button id="b" style="position:absolute;left:0;top:0;width:60px;height:20px">Go</button>
<script>
  let step = 0;
  const timer = setInterval(() => {
    step += 1;
    document.getElementById("b").style.left = (step * 10) + "px";
    if (step === 8) clearInterval(timer);
  }, 30);
</script></body>"""


def test_the_agent_waits_until_the_page_stops_moving(open_page: OpenPage) -> None:
    page = open_page(MOVING)
    snap, _ = observe_still(page, snapshots.take)
    assert page.evaluate("step") == 8  # the animation had finished
    assert by_id(snap, "b").box.x == 80  # seen where it came to rest
    page.set_content(MOVING.replace("if (step === 8) clearInterval(timer);", ""))
    observe_still(page, snapshots.take, limit_ms=300)  # a page that never stops: bounded
    assert page.evaluate("step") > 0
