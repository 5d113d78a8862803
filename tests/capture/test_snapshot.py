"""``snapshot.take``: the agent's view of a live page, without recording anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

import miniwob
from demoforge.capture.browser import launch_browser
from demoforge.capture.snapshot import recorder_source, take

pytestmark = pytest.mark.browser

PAGE = """
<label for="user">User</label><input id="user" value="grace">
<input type="password" id="pw" value="s3cret-value">
<input id="card" autocomplete="cc-number" value="4111111111111111">
<div data-private><span id="note">private note</span></div>
<div style="display:none"><button id="hidden">Hidden</button></div>
<p id="para">Hello <b>bold</b> world</p>
<div role="button" id="custom" aria-label="Open menu"></div>
<select id="sel"><option value="a">A</option><option value="b" selected>B</option></select>
<input type="checkbox" id="cb" checked>
"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with launch_browser() as browser:
        yield browser.new_page()


def test_elements_text_values_and_masking(page: Page):
    page.set_content(PAGE)
    page.focus("#user")
    snap = take(page)
    by_id = {e.id: e for e in snap.elements if e.id}
    assert by_id["user"].name == "User" and by_id["user"].value == "grace"
    assert by_id["user"].focused and snap.focused == by_id["user"].ref
    for masked in ("pw", "card"):
        assert by_id[masked].masked and by_id[masked].value is None
    assert by_id["note"].masked and by_id["note"].text is None
    assert "hidden" not in by_id  # not visible, not kept
    assert by_id["para"].text == "Hello world"  # own text only: "bold" belongs to <b>
    bold = next(e for e in snap.elements if e.tag == "b")
    assert bold.text == "bold" and bold.parent == by_id["para"].ref
    assert by_id["custom"].role == "button" and by_id["custom"].name == "Open menu"
    assert by_id["sel"].value == "b" and by_id["sel"].role == "combobox"
    assert by_id["cb"].checked is True
    assert page.locator(by_id["para"].selector).count() == 1
    raw = snap.model_dump_json()
    assert "s3cret-value" not in raw and "4111111111111111" not in raw and "private note" not in raw


def test_an_open_drop_downs_options_are_rows_below_it(page: Page):
    """The browser draws a drop-down's list outside the page, where its options have no
    box: while the select has focus (a click opened it) the snapshot gives each option
    the row it is drawn in; a closed list shows none, as a person sees none."""
    page.set_content(
        '<select id="sel" style="position:absolute;left:10px;top:20px;width:120px;font-size:16px">'
        "<option>Anna</option><option>Bob</option><option>Colombia</option></select>"
    )
    assert not [e for e in take(page).elements if e.tag == "option"]
    page.mouse.click(30, 28)
    snap = take(page)
    select = next(e for e in snap.elements if e.id == "sel")
    rows = [e for e in snap.elements if e.tag == "option"]
    assert [e.text for e in rows] == ["Anna", "Bob", "Colombia"]
    assert all(e.parent == select.ref and e.box.x == select.box.x and e.box.width == select.box.width for e in rows)
    assert rows[0].box.y == select.box.y + select.box.height
    assert [e.box.y - rows[0].box.y for e in rows] == [0, 20, 40]  # 16 px type: 20 px rows


def test_an_anchor_without_href_is_kept_when_a_role_or_tabindex_makes_it_a_control(page: Page):
    """jQuery UI's spinner arrows are ``<a role=button tabindex=-1>`` around an icon: no link,
    but a control, as the recordings' dumps show them. A bare ``<a>`` around a child is not."""
    page.set_content(
        '<a id="up" role="button" tabindex="-1" style="display:inline-block;width:16px;height:10px">'
        '<span style="display:inline-block;width:16px;height:16px"></span></a>'
        '<a id="bare" style="display:inline-block;width:16px;height:10px">'
        '<span style="display:inline-block;width:16px;height:16px"></span></a>'
    )
    ids = {e.id for e in take(page).elements}
    assert "up" in ids and "bare" not in ids


def test_refs_are_stable_and_boxes_match_the_page(page: Page):
    page.set_content(PAGE)
    first = take(page)
    page.evaluate("document.body.insertAdjacentHTML('afterbegin', '<h2>New heading</h2>')")
    second = take(page)
    assert {e.id: e.ref for e in first.elements if e.id}.items() <= {
        e.id: e.ref for e in second.elements if e.id
    }.items()
    user = next(e for e in second.elements if e.id == "user")
    box = page.locator("#user").bounding_box()
    assert box is not None
    assert (user.box.x, user.box.y, user.box.width) == pytest.approx(
        (box["x"], box["y"], box["width"]), abs=0.01
    )


def test_snapshot_reflects_every_change_since_the_last(page: Page):
    """Nothing carries over from one snapshot to the next: text, attributes, added and
    removed elements, values and layout changed in between all show in the second."""
    page.set_content(PAGE)
    first = next(e for e in take(page).elements if e.id == "user")
    page.evaluate("""() => {
        document.querySelector('#para').firstChild.data = 'Changed ';
        document.querySelector('#custom').setAttribute('aria-label', 'Close menu');
        document.querySelector('#cb').remove();
        document.querySelector('#user').value = 'ada';
        document.querySelector('#sel').value = 'a';
        document.querySelector('#hidden').parentElement.style.display = 'block';
        document.body.insertAdjacentHTML('afterbegin', '<div style="height:50px"><a href="#x">New link</a></div>');
    }""")
    by_id = {e.id: e for e in take(page).elements if e.id}
    assert by_id["para"].text == "Changed world"
    assert by_id["custom"].name == "Close menu"
    assert "cb" not in by_id and by_id["hidden"].name == "Hidden"
    assert by_id["user"].value == "ada" and by_id["sel"].value == "a"
    assert any(e.tag == "a" and e.name == "New link" for e in take(page).elements)
    user = page.locator("#user").bounding_box()
    assert user is not None and by_id["user"].box.y == pytest.approx(user["y"], abs=0.01)
    assert by_id["user"].box.y >= first.box.y + 50  # pushed down by the new block


LONG_TABLE = (
    "<style>td { height: 30px } .compact table { border-spacing: 0 }"
    ".compact td { height: 2px; font-size: 1px; line-height: 1px; padding: 0 }</style>"
    "<table><tbody>" + "".join(f"<tr><td id='c{i}'>Row {i}</td></tr>" for i in range(300)) + "</tbody></table>"
)


def test_long_table_snapshots_follow_far_rows(page: Page):
    """The rows a snapshot skipped as far away are skipped again only while they cannot
    have moved: a DOM change, a scroll or a style change that moves them shows."""
    page.set_content(LONG_TABLE)

    def ids() -> set[str]:
        return {e.id for e in take(page).elements if e.id}

    first = take(page)
    assert "c0" in ids() and "c250" not in ids()
    assert take(page).elements == first.elements  # unchanged page, same snapshot
    page.evaluate("document.querySelector('tbody').prepend(document.getElementById('c250').parentElement)")
    assert "c250" in ids()
    page.evaluate("window.scrollTo(0, document.getElementById('c200').offsetTop)")
    assert "c200" in ids() and "c0" not in ids()
    page.evaluate("window.scrollTo(0, 0); document.body.classList.add('compact')")
    last = page.locator("#c299").bounding_box()
    assert last is not None and last["y"] < 720  # 300 rows of 2 px fit in the viewport now
    assert "c299" in ids()


def test_take_does_not_start_recording(page: Page):
    page.set_content(PAGE)
    take(page)
    page.mouse.click(10, 10)
    page.keyboard.type("abc")
    assert page.evaluate("window.__demoforge.stats.events") == 0


def test_miniwob_task_page(page: Page):
    task = Path(miniwob.__file__).parent / "html" / "miniwob" / "click-button.html"
    page.goto(task.as_uri())
    page.mouse.click(80, 105)  # the START cover
    page.wait_for_selector("#area button")
    snap = take(page)
    buttons = [e for e in snap.elements if e.tag == "button"]
    assert buttons and all(b.name and b.text == b.name for b in buttons)
    query = next(e for e in snap.elements if e.id == "query")
    assert query.text and query.text.startswith("Click on the")


def test_mask_selectors_are_required():
    with pytest.raises(ValueError, match="mask selector"):
        recorder_source(())


def test_textless_leaves_are_kept_and_masked_fields_say_only_whether_filled(page: Page):
    page.set_content(
        '<div id="swatch" style="width:20px;height:20px;background:purple"></div>'
        '<div id="flat" style="width:20px;height:0"></div>'
        '<div id="outer" style="width:40px;height:40px"><span id="cell" style="display:inline-block;'
        'width:10px;height:10px"></span></div>'
        '<input type="password" id="full" value="hunter2"><input type="password" id="empty">'
    )
    by_id = {e.id: e for e in take(page).elements if e.id}
    assert "swatch" in by_id and "cell" in by_id  # leaves a person sees
    assert "flat" not in by_id and "outer" not in by_id  # no area; a textless container
    assert by_id["full"].filled is True and by_id["empty"].filled is False
    assert by_id["full"].value is None and "hunter2" not in take(page).model_dump_json()


def test_a_wordless_leaf_carries_the_colour_a_person_sees(page: Page):
    page.set_content(
        '<div id="red" style="width:20px;height:20px;background:red"></div>'
        '<span id="shade" style="display:inline-block;width:20px;height:20px;background:hsl(120, 40%, 70%)"></span>'
        '<div id="clear" style="width:20px;height:20px"></div>'
        '<button id="btn" style="background:blue">Go</button><input id="field" style="background:yellow">'
    )
    by_id = {e.id: e for e in take(page).elements if e.id}
    assert by_id["red"].color == "rgb(255, 0, 0)"
    assert by_id["shade"].color == "rgb(148, 209, 148)"
    assert by_id["clear"].color is None  # transparent: nothing to see
    assert by_id["btn"].color is None  # its words say what it is
    assert by_id["field"].color is None  # a field is read by its value
