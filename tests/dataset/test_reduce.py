"""Action reduction over hand-written raw streams: typing, drag, dblclick, select, scroll."""

from __future__ import annotations

from dataset_streams import BUTTON, FIELD, SELECT, TEXTAREA, Stream, page

from demoforge.dataset.reduce import reduce_events


def ops(stream: Stream, **kw: object) -> list[tuple[str, object]]:
    out = []
    for step in reduce_events(stream.events, **kw):  # type: ignore[arg-type]
        a = step.action
        value = {"type": a.text, "select": a.text, "press": a.key}.get(a.op, (a.x, a.y))
        out.append((a.op, value))
    return out


def test_typing_with_shift_and_backspace_merges_into_one_type_action() -> None:
    s = Stream()
    s.click(5, 5, target=FIELD)
    s.type_text("Helo")
    s.keys("Backspace")
    s.type_text("lo World")
    s.keys("Backspace", "Backspace")
    s.keys("l", "d", "!")
    s.keys("Enter")
    assert ops(s) == [("click", (5, 5)), ("type", "Hello World!"), ("press", "Enter")]


def test_shifted_symbols_and_delete_with_caret_moves() -> None:
    s = Stream()
    s.type_text("ac")
    s.keys("ArrowLeft")
    s.keys("b")
    s.keys("Home")
    s.keys("Delete")
    s.keys("!", shift=True)
    assert ops(s) == [("type", "!bc")]


def test_select_all_then_typing_replaces_the_text_the_field_had() -> None:
    s = Stream()
    s.snapshot("a" * 64)
    s.click(5, 5, target=FIELD)
    s.keys("a", ctrl=True)
    s.type_text("new")
    steps = reduce_events(s.events, {"a" * 64: page(value="old text")})
    assert [(st.action.op, st.action.text) for st in steps] == [("click", None), ("type", "new")]


def test_without_select_all_typing_appends_to_the_existing_text() -> None:
    s = Stream()
    s.snapshot("a" * 64)
    s.type_text("er")
    steps = reduce_events(s.events, {"a" * 64: page(value="old")})
    assert steps[0].action.text == "older"


def test_shift_arrow_selection_then_typing_replaces_the_selection() -> None:
    s = Stream()
    s.type_text("abcd")
    s.keys("ArrowLeft", "ArrowLeft", shift=True)
    s.keys("X", shift=True)
    assert ops(s) == [("type", "abX")]


def test_a_recorded_value_overrides_the_keys_it_explains_paste() -> None:
    s = Stream()
    s.keys("v", ctrl=True)
    s.add("input", value="pasted", target=FIELD.model_dump())
    s.type_text("!")
    assert ops(s) == [("type", "pasted!")]


def test_a_date_or_time_fields_value_is_typed_in_the_form_a_person_keys() -> None:
    """The page reads 2019-09-24 and 14:18; the keys were 09/24/2019 and 2:18 PM."""
    day = FIELD.model_copy(update={"id": "day", "ref": 6, "input_type": "date"})
    at = FIELD.model_copy(update={"id": "at", "ref": 7, "input_type": "time"})
    s = Stream()
    s.type_text("09242019", target=day)
    s.add("input", value="2019-09-24", target=day.model_dump())
    s.type_text("0218P", target=at)
    s.add("input", value="14:18", target=at.model_dump())
    s.type_text("1", target=FIELD)
    s.add("input", value="2019-09-24", target=FIELD.model_dump())
    assert ops(s) == [("type", "09/24/2019"), ("type", "2:18 PM"), ("type", "2019-09-24")]


def test_keys_into_two_fields_are_two_type_actions_and_shortcuts_outside_are_presses() -> None:
    s = Stream()
    s.type_text("ab")
    s.type_text("cd", target=TEXTAREA)
    s.keys("c", ctrl=True, target=BUTTON)
    s.keys("Tab", target=BUTTON)
    assert ops(s) == [("type", "ab"), ("type", "cd"), ("press", "Control+c"), ("press", "Tab")]


def test_pointer_down_and_up_apart_is_a_drag_and_moves_fold_into_it() -> None:
    s = Stream()
    s.add("pointer_move", x=1, y=1)
    s.add("pointer_move", x=9, y=9)
    down = s.add("pointer_down", x=10, y=10, buttons=1, target=BUTTON.model_dump())
    s.add("pointer_move", x=40, y=12, buttons=1)
    s.add("pointer_up", x=80, y=15)
    s.add("click", x=80, y=15)
    steps = reduce_events(s.events)
    assert len(steps) == 1
    a = steps[0].action
    assert (a.op, a.x, a.y, a.end_x, a.end_y, a.ref) == ("drag", 10, 10, 80, 15, BUTTON.ref)
    assert a.first_seq == 0 and a.last_seq == 5 and a.ts == down.ts


def test_two_clicks_and_a_dblclick_event_are_one_dblclick() -> None:
    s = Stream()
    s.click(20, 30)
    s.click(21, 30)
    s.add("dblclick", x=21, y=30, target=BUTTON.model_dump())
    s.click(50, 50)
    assert ops(s) == [("dblclick", (20, 30)), ("click", (50, 50))]


def test_two_separate_clicks_stay_two_clicks() -> None:
    s = Stream()
    s.click(20, 30)
    s.click(20, 30)
    assert ops(s) == [("click", (20, 30)), ("click", (20, 30))]


def test_a_click_with_control_held_carries_it_and_the_held_key_is_no_press() -> None:
    """Control held over a list, clicks on two options: the second adds to the selection."""
    s = Stream()
    s.click(20, 30, target=SELECT)
    s.add("key_down", key="Control", modifiers={"ctrl": True}, target=SELECT.model_dump())
    s.click(20, 50, target=SELECT, ctrl=True)
    s.add("key_up", key="Control", target=SELECT.model_dump())
    actions = [step.action for step in reduce_events(s.events)]
    assert [(a.op, a.key) for a in actions] == [("click", None), ("click", "Control")]
    assert actions[1].describe() == "click @4 (20,50) holding Control"


def test_change_on_a_select_is_a_select_action_replacing_the_click_that_opened_it() -> None:
    s = Stream()
    s.click(5, 5, target=SELECT)
    s.add("change", value="green", target=SELECT.model_dump())
    s.click(7, 7)
    assert ops(s) == [("select", "green"), ("click", (7, 7))]


def test_wheel_events_merge_into_one_scroll() -> None:
    s = Stream()
    for _ in range(3):
        s.add("wheel", x=50, y=60, dy=100)
    s.add("scroll", scroll_x=0, scroll_y=300)
    s.click(5, 5)
    steps = reduce_events(s.events)
    assert [(st.action.op, st.action.dy) for st in steps] == [("scroll", 300), ("click", None)]


def test_each_action_gets_the_snapshot_named_by_its_event_else_the_latest_before() -> None:
    s = Stream()
    s.snapshot("1" * 64)
    s.add("pointer_down", x=1, y=1, buttons=1, target=BUTTON.model_dump())
    # The live recorder numbers the boundary snapshot after the event it belongs to.
    s.snapshot("2" * 64, action_id=s.events[-1].id)
    s.add("pointer_up", x=1, y=1)
    s.add("screenshot", blob="3" * 64, action_id=s.events[1].id)
    s.keys("Enter", target=BUTTON)
    steps = reduce_events(s.events)
    assert [(st.snapshot, st.screenshot) for st in steps] == [
        ("2" * 64, "3" * 64),
        ("2" * 64, "3" * 64),
    ]


def test_text_that_appears_in_a_field_just_clicked_without_keys_is_typed_but_not_after_a_click_elsewhere() -> (
    None
):
    s = Stream()
    s.click(5, 5, target=FIELD)
    s.add("input", value="from the menu", target=FIELD.model_dump())
    s.click(7, 7)  # the button
    s.add("input", value="filled by the page", target=FIELD.model_dump())
    assert ops(s) == [("click", (5, 5)), ("type", "from the menu"), ("click", (7, 7))]


def test_task_markers_end_a_typing_run() -> None:
    s = Stream()
    s.type_text("ab")
    s.add("task_end", outcome="success")
    s.add("task_start", instruction="next")
    s.type_text("cd")
    assert ops(s) == [("type", "ab"), ("type", "cd")]


def test_a_key_held_down_outside_a_field_is_one_press_but_typed_repeatedly_inside_one() -> None:
    s = Stream()
    for _ in range(5):  # auto-repeat: key_down after key_down, one key_up at the end
        s.add("key_down", key="Backspace", target=BUTTON.model_dump())
    s.add("key_up", key="Backspace", target=BUTTON.model_dump())
    s.keys("Backspace", target=BUTTON)  # pressed again: a second press
    for _ in range(3):
        s.add("key_down", key="x", target=FIELD.model_dump())
    s.add("key_up", key="x", target=FIELD.model_dump())
    assert ops(s) == [("press", "Backspace"), ("press", "Backspace"), ("type", "xxx")]


def test_keys_the_browser_could_not_name_are_no_actions() -> None:
    s = Stream()
    s.keys("Unidentified", "Unidentified", target=BUTTON)
    s.click(3, 3)
    assert ops(s) == [("click", (3, 3))]


def test_a_press_that_ends_the_task_before_the_pointer_comes_up_is_a_click() -> None:
    s = Stream()
    s.add("task_start", instruction="Focus the field")
    s.add("pointer_down", x=4, y=5, buttons=1, target=FIELD.model_dump())
    s.add("task_end", outcome="success")
    assert ops(s) == [("click", (4, 5))]


def test_the_click_a_browser_makes_for_enter_or_space_is_part_of_the_press() -> None:
    """Enter in a form's field makes the browser click its submit button, and Space a
    focused button (at 0, 0, with no down/up): the person pressed a key, one action."""
    s = Stream()
    s.type_text("ab")
    s.keys("Enter")
    s.add("click", x=0, y=0, target=BUTTON.model_dump())
    s.keys(" ", target=BUTTON)
    s.add("click", x=0, y=0, target=BUTTON.model_dump())
    assert ops(s) == [("type", "ab"), ("press", "Enter"), ("press", " ")]

    s = Stream()  # a page's own click long after the key is still an action of its own
    s.keys("Enter", target=BUTTON)
    s.add("click", x=0, y=0, ts=s.events[-1].ts + 5000, target=BUTTON.model_dump())
    s.keys("Tab", target=BUTTON)
    s.add("click", x=0, y=0, target=BUTTON.model_dump())
    assert ops(s) == [("press", "Enter"), ("click", (0, 0)), ("press", "Tab"), ("click", (0, 0))]
