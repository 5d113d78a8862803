"""The runtime's input actions land where they should, through real mouse and keyboard input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from demoforge.agent.actuate import aim, perform
from demoforge.agent.runtime import observe_still
from demoforge.capture import snapshot
from demoforge.capture.browser import launch_browser
from demoforge.dataset.actions import Action
from demoforge.dataset.miniwob_dom import target_of
from demoforge.events import DomSnapshot, Element

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><body style="margin:0">
<button id="go" style="position:absolute;left:40px;top:30px;width:80px;height:30px">Go</button>
<input id="name" style="position:absolute;left:40px;top:90px;width:150px" value="old">
<select id="pet" style="position:absolute;left:40px;top:140px"><option>cat</option><option>dog</option></select>
<input id="day" type="date" style="position:absolute;left:220px;top:30px;width:150px">
<input id="at" type="time" style="position:absolute;left:220px;top:90px;width:150px" value="09:05">
<script>
window.log = [];
document.getElementById('go').addEventListener('click', e => log.push(['click', e.isTrusted]));
document.getElementById('go').addEventListener('dblclick', e => log.push(['dblclick', e.isTrusted]));
document.addEventListener('keydown', e => log.push(['key', e.key, e.isTrusted]));
</script></body>"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with launch_browser() as browser:
        p = browser.new_page()
        yield p


@pytest.fixture
def snap(page: Page) -> DomSnapshot:
    page.set_content(PAGE)
    return snapshot.take(page)


def find(snap: DomSnapshot, id_: str) -> Element:
    return next(e for e in snap.elements if e.id == id_)


def test_click_lands_on_the_target_element_as_trusted_input(page: Page, snap: DomSnapshot) -> None:
    go = find(snap, "go")
    x, y = go.box.middle()
    perform(page, Action(op="click", ref=go.ref, x=x, y=y), snap)
    perform(page, Action(op="dblclick", ref=go.ref, x=x, y=y), snap)
    log = page.evaluate("log")
    assert ["click", True] in log and ["dblclick", True] in log


def test_type_replaces_the_fields_text_by_keystrokes(page: Page, snap: DomSnapshot) -> None:
    field = find(snap, "name")
    perform(page, Action(op="type", ref=field.ref, text="Ann Smith"), snap)
    assert page.input_value("#name") == "Ann Smith"
    keys = [entry for entry in page.evaluate("log") if entry[0] == "key"]
    assert ["key", "S", True] in keys  # typed key by key, not set by script
    after = snapshot.take(page)
    assert find(after, "name").focused


def test_date_and_time_fields_take_the_keys_a_person_types(page: Page, snap: DomSnapshot) -> None:
    """Segmented fields are keyed from their first segment, in the form they display."""
    for id_, text, value in (("day", "09/24/2019", "2019-09-24"), ("at", "2:18 PM", "14:18")):
        field = find(snap, id_)
        perform(page, Action(op="type", ref=field.ref, x=field.box.middle()[0], y=field.box.middle()[1], text=text), snap)
        assert page.input_value(f"#{id_}") == value


def test_press_and_select(page: Page, snap: DomSnapshot) -> None:
    perform(page, Action(op="press", key="Enter"), snap)
    assert ["key", "Enter", True] in page.evaluate("log")
    pet = find(snap, "pet")
    perform(page, Action(op="select", ref=pet.ref, text="dog"), snap)
    assert page.input_value("#pet") == "dog"


SPIN_PAGE = """<!doctype html><body style="margin:0">
<input id="guess" type="number" style="position:absolute;left:40px;top:30px;width:30px">
<button id="submit" style="position:absolute;left:40px;top:60px">Submit</button></body>"""


def test_a_number_field_is_clicked_at_its_text_and_an_arrow_key_steps_it(page: Page) -> None:
    """The arrows of a narrow spin box fill its middle: a click there would step the value,
    which only an ArrowUp or ArrowDown action should do."""
    page.set_content(SPIN_PAGE)
    snap = snapshot.take(page)
    guess, submit = find(snap, "guess"), find(snap, "submit")
    perform(page, Action(op="click", ref=guess.ref, x=guess.box.middle()[0], y=guess.box.middle()[1]), snap)
    assert page.input_value("#guess") != ""  # what the middle does: the arrows took the click
    page.set_content(SPIN_PAGE)
    snap = snapshot.take(page)
    guess, submit = find(snap, "guess"), find(snap, "submit")
    x, y = aim(guess)
    perform(page, Action(op="click", ref=guess.ref, x=x, y=y), snap)
    assert page.input_value("#guess") == "" and find(snapshot.take(page), "guess").focused
    perform(page, Action(op="type", ref=guess.ref, target=target_of(guess), text="4"), snapshot.take(page))
    perform(page, Action(op="click", ref=submit.ref, x=submit.box.middle()[0], y=submit.box.middle()[1]), snap)
    elsewhere = snapshot.take(page)
    assert not find(elsewhere, "guess").focused
    perform(page, Action(op="press", ref=guess.ref, target=target_of(guess), key="ArrowUp"), elsewhere)
    assert page.input_value("#guess") == "5"
    perform(page, Action(op="press", ref=guess.ref, target=target_of(guess), key="ArrowDown"), snapshot.take(page))
    assert page.input_value("#guess") == "4"


LIST_PAGE = """<!doctype html><body style="margin:0">
<select id="pets" multiple size="3" style="position:absolute;left:0;top:0;width:100px;font-size:14px">
<option id="cat">cat</option><option id="dog">dog</option><option id="eel">eel</option></select></body>"""


def test_a_click_holding_control_adds_to_a_lists_selection(page: Page) -> None:
    page.set_content(LIST_PAGE)
    snap = snapshot.take(page)
    for id_, key in (("cat", None), ("eel", "Control")):
        option = find(snap, id_)
        perform(page, Action(op="click", ref=option.ref, x=option.box.middle()[0], y=option.box.middle()[1], key=key), snap)
    chosen = "Array.from(document.getElementById('pets').selectedOptions, o => o.value)"
    assert page.evaluate(chosen) == ["cat", "eel"]
    dog = find(snap, "dog")
    perform(page, Action(op="click", ref=dog.ref, x=dog.box.middle()[0], y=dog.box.middle()[1]), snap)
    assert page.evaluate(chosen) == ["dog"]  # the key went up: a plain click replaces the selection


DROP_DOWN_PAGE = """<!doctype html><body style="margin:0">
<select id="land" style="position:absolute;left:0;top:0;width:120px">
<option>Chad</option><option>Chile</option><option>Colombia</option></select>
<button id="submit" style="position:absolute;left:0;top:30px;width:120px;height:30px">Submit</button>
<script>window.log = []; submit.addEventListener('click', e => log.push(land.value));</script></body>"""


def test_a_click_on_a_row_of_an_open_drop_down_picks_that_option(page: Page) -> None:
    """The list is drawn outside the page, so the pointer cannot reach its rows: the option
    is picked from the keys, and the rows, which the snapshot lays over the button below,
    do not take the next click."""
    page.set_content(DROP_DOWN_PAGE)
    land = find(snapshot.take(page), "land")
    perform(page, Action(op="click", ref=land.ref, x=land.box.middle()[0], y=land.box.middle()[1]), snapshot.take(page))
    opened = snapshot.take(page)
    colombia = next(e for e in opened.elements if e.text == "Colombia")
    submit = find(opened, "submit")
    assert submit.box.y < colombia.box.y < submit.box.y + submit.box.height
    perform(page, Action(op="click", ref=colombia.ref, x=colombia.box.middle()[0], y=colombia.box.middle()[1]), opened)
    assert page.input_value("#land") == "Colombia"
    perform(page, Action(op="click", ref=submit.ref, x=submit.box.middle()[0], y=submit.box.middle()[1]), snapshot.take(page))
    assert page.evaluate("log") == ["Colombia"]


SUGGESTING_PAGE = """<!doctype html><body style="margin:0">
<input id="q" style="position:absolute;left:40px;top:30px;width:150px"><ul id="menu" style="margin-top:60px"></ul>
<script>
const places = ['Vermont', 'Venezuela', 'Vatican City'];
let timer;
document.getElementById('q').addEventListener('input', e => {
  clearTimeout(timer);  // suggestions wait until the typing pauses, as jQuery UI's autocomplete does
  timer = setTimeout(() => {
    document.getElementById('menu').innerHTML = places
      .filter(p => p.startsWith(e.target.value)).map(p => `<li>${p}</li>`).join('');
  }, 300);
});
</script></body>"""


def test_suggestions_that_follow_the_typing_are_there_for_the_next_look(page: Page) -> None:
    page.set_content(SUGGESTING_PAGE)
    before = snapshot.take(page)
    field = find(before, "q")
    perform(page, Action(op="type", ref=field.ref, text="Ve"), before)
    after, _ = observe_still(page, snapshot.take)
    assert [e.text for e in after.elements if e.tag == "li"] == ["Vermont", "Venezuela"]
