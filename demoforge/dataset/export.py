"""``demoforge dataset export``: a built dataset as JSON Lines in two common training styles.

- ``elements`` (as in Mind2Web): the target element (its ref, tag, id, name,
  text, selector and box from the observation), the operation and its value,
  and the previous actions as short strings.
- ``pyautogui`` (as in OpenCUA and UI-TARS training data): the action as
  Python code calling pyautogui with screen coordinates.

Screen coordinates are the observation's viewport coordinates placed at the
screen origin at scale 1 (``--origin``/``--scale`` of the CLI change that for
a window elsewhere or a HiDPI screen). A ``type`` becomes click into the
field, select all, write the text (our ``type`` carries the field's whole
text); a ``scroll`` of ``dy`` CSS px becomes ``-dy/100`` wheel clicks (one
notch scrolls about 100 px in Chromium), at least one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from demoforge.dataset.actions import CLICKS, SPLITS, Action, Example
from demoforge.events import Element

Format = Literal["elements", "pyautogui"]
FORMATS: tuple[str, ...] = ("elements", "pyautogui")

PYAUTOGUI_KEYS = {
    "Control": "ctrl",
    "Alt": "alt",
    "Shift": "shift",
    "Meta": "command",
    "Enter": "enter",
    "Tab": "tab",
    "Escape": "esc",
    "Backspace": "backspace",
    "Delete": "delete",
    " ": "space",
    "ArrowUp": "up",
    "ArrowDown": "down",
    "ArrowLeft": "left",
    "ArrowRight": "right",
    "Home": "home",
    "End": "end",
    "PageUp": "pageup",
    "PageDown": "pagedown",
}
#: CSS px per wheel notch, to turn a scroll distance into pyautogui wheel clicks.
PX_PER_WHEEL_CLICK = 100


def read_examples(dataset: Path) -> Iterator[Example]:
    """Every example of a built dataset, train then validation then test, in file order."""
    folder = dataset / "data"
    if not (folder / "train.parquet").is_file():
        raise FileNotFoundError(f"{dataset} is not a built dataset (no data/train.parquet)")
    for split in SPLITS:
        for row in pq.read_table(folder / f"{split}.parquet").to_pylist():
            yield Example.from_row(row)


def _about(example: Example) -> dict[str, Any]:
    """The fields every exported line starts with: which example, of what task."""
    return {
        "example_id": example.example_id,
        "episode_id": example.episode_id,
        "task": example.task,
        "instruction": example.instruction,
        "split": example.split,
    }


def element_style(example: Example) -> dict[str, Any]:
    action = example.action
    element = example.observation.by_ref().get(action.ref) if action.ref is not None else None
    # A click's value is the modifiers it holds ("Control"), None for a plain one.
    keyed = {"type": action.text, "select": action.text, "press": action.key, **dict.fromkeys(CLICKS, action.key)}
    value = keyed.get(action.op)
    if action.op == "scroll":
        value = f"{action.dx:g},{action.dy:g}"
    return {
        **_about(example),
        "target": _element_json(element, action),
        "operation": {"op": action.op.upper(), "value": value},
        "previous_actions": [a.describe() for a in example.history],
    }


def _element_json(element: Element | None, action: Action) -> dict[str, Any] | None:
    if element is not None:
        return element.model_dump(
            mode="json",
            include={"ref", "tag", "id", "role", "name", "text", "selector", "box", "input_type"},
            exclude_none=True,
        )
    if action.target is not None:
        return action.target.model_dump(mode="json", exclude_none=True, exclude={"masked"})
    return None


def pyautogui_code(action: Action, origin: tuple[float, float] = (0, 0), scale: float = 1.0) -> str:
    """The action as pyautogui calls, with viewport CSS px mapped to screen pixels."""

    def at(x: float, y: float) -> str:
        return f"x={round(origin[0] + x * scale)}, y={round(origin[1] + y * scale)}"

    def center() -> tuple[float, float] | None:
        box = action.target.box if action.target else None
        return box.middle() if box else None

    if action.op in CLICKS:
        call = "click" if action.op == "click" else "doubleClick"
        held = [PYAUTOGUI_KEYS.get(k, k.lower()) for k in _split_combination(action.key)] if action.key else []
        lines = [f"pyautogui.keyDown({k!r})" for k in held]
        lines.append(f"pyautogui.{call}({at(action.x, action.y)})")  # type: ignore[arg-type]
        lines += [f"pyautogui.keyUp({k!r})" for k in reversed(held)]
        return "\n".join(lines)
    if action.op == "drag":
        return (
            f"pyautogui.moveTo({at(action.x, action.y)})\n"  # type: ignore[arg-type]
            f"pyautogui.dragTo({at(action.end_x, action.end_y)}, button='left')"  # type: ignore[arg-type]
        )
    if action.op == "press":
        keys = [PYAUTOGUI_KEYS.get(k, k.lower()) for k in _split_combination(action.key or "")]
        return (
            f"pyautogui.press({keys[0]!r})"
            if len(keys) == 1
            else f"pyautogui.hotkey({', '.join(map(repr, keys))})"
        )
    if action.op == "scroll":
        clicks = -round((action.dy or 0) / PX_PER_WHEEL_CLICK) or (
            -1 if (action.dy or 0) > 0 else 1
        )
        where = (
            f", {at(action.x, action.y)}" if action.x is not None and action.y is not None else ""
        )
        return f"pyautogui.scroll({clicks}{where})"
    lines = []
    point = center()
    if point is not None:
        lines.append(f"pyautogui.click({at(*point)})")
    if action.op == "type":
        lines += ["pyautogui.hotkey('ctrl', 'a')", f"pyautogui.write({action.text!r})"]
    else:  # select: a focused <select> jumps to the option typed, Enter picks it
        lines += [f"pyautogui.write({action.text!r})", "pyautogui.press('enter')"]
    return "\n".join(lines)


def _split_combination(key: str) -> list[str]:
    """``Control+Shift+a`` → [Control, Shift, a]; a lone ``+`` key stays itself."""
    if key == "+" or key.endswith("++"):
        head = key[:-2]
        return [*(head.split("+") if head else []), "+"]
    return key.split("+")


def code_style(example: Example, origin: tuple[float, float], scale: float) -> dict[str, Any]:
    return {
        **_about(example),
        "history": [pyautogui_code(a, origin, scale) for a in example.history],
        "code": pyautogui_code(example.action, origin, scale),
    }


def export_dataset(
    dataset: Path, out: Path, fmt: Format, origin: tuple[float, float] = (0, 0), scale: float = 1.0
) -> int:
    """Write the dataset's examples to ``out`` as JSON Lines; returns the number written.
    Written to a temporary name first: a failed export leaves no half file."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    tmp = out.with_name(out.name + ".part")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for example in read_examples(dataset):
                line = (
                    element_style(example)
                    if fmt == "elements"
                    else code_style(example, origin, scale)
                )
                f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return count
