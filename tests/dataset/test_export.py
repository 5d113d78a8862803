"""Export styles: pyautogui code for every operation, element-style records."""

from __future__ import annotations

from dataset_streams import BUTTON, FIELD, page

from demoforge.dataset.actions import Action, Example
from demoforge.dataset.export import element_style, pyautogui_code
from demoforge.events import Box

FIELD_WITH_BOX = FIELD.model_copy(update={"box": Box(x=10, y=20, width=100, height=20)})


def test_pyautogui_code_for_each_operation() -> None:
    cases = [
        (Action(op="click", x=10.4, y=20.6), "pyautogui.click(x=10, y=21)"),
        (Action(op="dblclick", x=5, y=6), "pyautogui.doubleClick(x=5, y=6)"),
        (
            Action(op="click", x=5, y=6, key="Control+Shift"),
            "pyautogui.keyDown('ctrl')\npyautogui.keyDown('shift')\npyautogui.click(x=5, y=6)"
            "\npyautogui.keyUp('shift')\npyautogui.keyUp('ctrl')",
        ),
        (
            Action(op="drag", x=1, y=2, end_x=30, end_y=40),
            "pyautogui.moveTo(x=1, y=2)\npyautogui.dragTo(x=30, y=40, button='left')",
        ),
        (Action(op="press", key="Enter"), "pyautogui.press('enter')"),
        (Action(op="press", key="Control+Shift+Tab"), "pyautogui.hotkey('ctrl', 'shift', 'tab')"),
        (Action(op="press", key="Control++"), "pyautogui.hotkey('ctrl', '+')"),
        (Action(op="scroll", dx=0, dy=250, x=50, y=60), "pyautogui.scroll(-2, x=50, y=60)"),
        (Action(op="scroll", dx=0, dy=-30), "pyautogui.scroll(1)"),
        (
            Action(op="type", text="Hi", target=FIELD_WITH_BOX),
            "pyautogui.click(x=60, y=30)\npyautogui.hotkey('ctrl', 'a')\npyautogui.write('Hi')",
        ),
        (Action(op="select", text="green"), "pyautogui.write('green')\npyautogui.press('enter')"),
    ]
    for action, code in cases:
        assert pyautogui_code(action) == code, action.op


def test_screen_origin_and_scale_map_viewport_pixels_to_screen_pixels() -> None:
    assert (
        pyautogui_code(Action(op="click", x=10, y=20), origin=(100, 50), scale=2)
        == "pyautogui.click(x=120, y=90)"
    )


def test_element_style_names_the_target_element_from_the_observation() -> None:
    example = Example(
        example_id="s/0/1",
        episode_id="s/0",
        session_id="s",
        step=1,
        instruction="Type Bob",
        contributor="c",
        observation=page(),
        history=[Action(op="click", x=1, y=2, ref=BUTTON.ref)],
        action=Action(op="type", text="Bob", ref=FIELD.ref, target=FIELD),
        split="train",
        episode_split="test",
    )
    record = element_style(example)
    assert record["operation"] == {"op": "TYPE", "value": "Bob"}
    assert record["target"]["id"] == "name" and record["target"]["tag"] == "input"
    assert record["previous_actions"] == ["click @3 (1,2)"]
