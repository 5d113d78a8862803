"""The imported observation of a MiniWoB++ page matches the live recorder's snapshot of it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import miniwob
import pytest

from demoforge.capture.browser import launch_browser
from demoforge.capture.snapshot import take
from demoforge.dataset.miniwob_dom import snapshot_from_miniwob
from demoforge.events import DomSnapshot

pytestmark = pytest.mark.browser

#: What must agree between the two for the same element.
SHAPE = ("tag", "id", "role", "name", "input_type", "selector", "masked")


def shape(element: object) -> tuple[object, ...]:
    return tuple(getattr(element, f) for f in SHAPE)


def test_login_user_page_imported_like_the_live_recorder_sees_it(demos_root: Path) -> None:
    page_file = Path(miniwob.__file__).parent / "html" / "miniwob" / "login-user.html"
    with launch_browser() as browser:
        page = browser.new_page()
        page.goto(page_file.as_uri())
        page.evaluate("() => core.startEpisodeReal()")
        live = take(page)
    recorded = next(demos_root.glob("*/login-user/*.json.gz"))
    first_state = json.loads(gzip.decompress(recorded.read_bytes()))["states"][0]["dom"]
    imported = DomSnapshot.model_validate(snapshot_from_miniwob(first_state).snapshot)

    live_area = [
        e
        for e in live.elements
        if e.selector and e.selector.startswith(("#form", "#username", "#password", "#subbtn"))
    ]
    assert [shape(e) for e in imported.elements] == [shape(e) for e in live_area]
    assert [e.text for e in imported.elements] == [e.text for e in live_area]
    assert [e.value for e in imported.elements] == [e.value for e in live_area]
    password = next(e for e in imported.elements if e.id == "password")
    assert password.masked and password.value is None


def test_imported_password_field_says_only_whether_it_is_filled() -> None:
    def dump(value: str) -> dict:
        field = {"tag": "INPUT_password", "ref": 3, "id": "password", "left": 10, "top": 10,
                 "width": 100, "height": 20, "value": value}
        swatch = {"tag": "DIV", "ref": 4, "id": "", "classes": "color", "left": 10, "top": 40,
                  "width": 20, "height": 20}
        return {"tag": "BODY", "ref": 1, "left": 0, "top": 0, "width": 160, "height": 210,
                "children": [field, swatch]}

    filled = DomSnapshot.model_validate(snapshot_from_miniwob(dump("kOcgP")).snapshot)
    empty = DomSnapshot.model_validate(snapshot_from_miniwob(dump("")).snapshot)
    assert [e.filled for e in filled.elements if e.masked] == [True]
    assert [e.filled for e in empty.elements if e.masked] == [False]
    assert "kOcgP" not in filled.model_dump_json()
    assert [e.classes for e in filled.elements if not e.masked] == ["color"]  # a textless leaf is kept


def test_imported_wordless_leaves_carry_their_background_colour() -> None:
    def node(ref: int, color: str, **more: object) -> dict:
        return {"tag": "DIV", "ref": ref, "id": f"n{ref}", "left": 10, "top": 10 * ref, "width": 20, "height": 8,
                "bgColor": color, **more}

    dump = {"tag": "BODY", "ref": 1, "left": 0, "top": 0, "width": 160, "height": 210, "children": [
        node(2, "rgb(0, 255, 255)"),
        node(3, "rgba(0, 0, 0, 0)"),
        node(4, "rgb(255, 0, 0)", text="Submit"),
        node(5, "rgb(0, 0, 255)", children=[node(6, "rgb(0, 128, 0)")]),
        node(7, "rgb(255, 255, 255)", tag="INPUT_text", value=""),
    ]}
    snap = DomSnapshot.model_validate(snapshot_from_miniwob(dump).snapshot)
    colours = {e.id: e.color for e in snap.elements}
    # A swatch's colour is kept; a transparent leaf, a labelled element, a container and a field have none.
    assert colours == {"n2": "rgb(0, 255, 255)", "n3": None, "n4": None, "n6": "rgb(0, 128, 0)", "n7": None}


def test_imported_options_are_checked_where_drawn_highlighted(demos_root: Path) -> None:
    """The 2017 dump has no ``selected``; the highlighted row is what a person sees chosen,
    and what the live recorder reports as ``checked`` (a list box's selected option)."""
    recorded = next(demos_root.glob("*/click-scroll-list/*.json.gz"))
    states = json.loads(gzip.decompress(recorded.read_bytes()))["states"]
    seen = set()
    for state in states:
        snap = DomSnapshot.model_validate(snapshot_from_miniwob(state["dom"]).snapshot)
        options = [e for e in snap.elements if e.tag == "option"]
        assert options and all(e.checked is not None for e in options)
        seen.update(e.checked for e in options)
    assert seen == {True, False}  # somebody chose a row during the recording

    page_file = Path(miniwob.__file__).parent / "html" / "miniwob" / "click-scroll-list.html"
    with launch_browser() as browser:
        page = browser.new_page()
        page.goto(page_file.as_uri())
        page.evaluate("() => core.startEpisodeReal()")
        first = next(e for e in take(page).elements if e.tag == "option")
        page.mouse.click(*first.box.middle())
        live = [e for e in take(page).elements if e.tag == "option"]
    assert [e.checked for e in live] == [True] + [False] * (len(live) - 1)  # the clicked one alone
